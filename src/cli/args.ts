import { UsageError } from './exit-codes';

/** What a command accepts besides positionals. */
export interface OptionSpec {
  /** Options that take no value (`--json`). */
  readonly flags: readonly string[];
  /** Options that take one value (`--timeout 10` or `--timeout=10`). */
  readonly values: readonly string[];
}

export interface ParsedArgs {
  readonly command: string;
  readonly positionals: readonly string[];
  readonly flags: ReadonlySet<string>;
  readonly values: ReadonlyMap<string, string>;
  /** Everything after `--`, or null when there was no `--`. */
  readonly rest: readonly string[] | null;
}

/** Options every command accepts. */
export const COMMON: OptionSpec = { flags: ['--help'], values: ['--lock-dir', '--poll-interval'] };

/** Parses a command's arguments; options and positionals may mix until `--`. */
export function parseArgs(command: string, argv: readonly string[], spec: OptionSpec): ParsedArgs {
  const flags = new Set<string>();
  const values = new Map<string, string>();
  const positionals: string[] = [];
  const allFlags = new Set([...COMMON.flags, ...spec.flags]);
  const allValues = new Set([...COMMON.values, ...spec.values]);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') return { command, positionals, flags, values, rest: argv.slice(i + 1) };
    if (arg === '-h') {
      flags.add('--help');
      continue;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (allFlags.has(name)) {
      if (eq > 0) throw new UsageError(`The option ${name} of \`${command}\` takes no value; write just ${name}.`, command);
      flags.add(name);
    } else if (allValues.has(name)) {
      const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined) throw new UsageError(`The option ${name} of \`${command}\` needs a value, e.g. ${name} ${name === '--lock-dir' ? 'DIR' : '10'}.`, command);
      values.set(name, value);
    } else {
      throw new UsageError(`Unknown option ${name} for \`${command}\` (a command to run goes after \`--\`).`, command);
    }
  }
  return { command, positionals, flags, values, rest: null };
}

/** A non-negative number option, or undefined when absent. */
export function numberOption(args: ParsedArgs, name: string, what: string): number | undefined {
  const raw = args.values.get(name);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || n < 0) throw new UsageError(`${name} wants ${what}, not "${raw}".`, args.command);
  return n;
}
