// Why not node:util parseArgs (even with `tokens`): three contracts it cannot keep without our
// own loop around it. (1) `toolchain-lock [OPTIONS] COMMAND …` and `toolchain-lock [OPTIONS]
// rustup ARG …` stop at the first word that is not ours; parseArgs has no "stop at the first
// positional", so it would parse (and in strict mode reject) rustup's own options such as
// `--toolchain`. (2) Its errors are its own (ERR_PARSE_ARGS_*), while ours say what to write
// instead and exit 64 naming the command's help; mapping them back needs the same knowledge of
// the options as this loop. (3) A value that starts with `-` (`--lock-dir -tmp-locks`) is an
// error there, a value here. So the loop stays, small and with one table (OptionSpec).
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

/**
 * The options before a command name, or before rustup's arguments: those `isOurs` accepts, with
 * the value of a value option (`--lock-dir DIR`; `--lock-dir=DIR` is one word). The one place
 * where leading options are split off (main.ts, rustup.ts).
 */
export function leadingOptions(
  argv: readonly string[],
  isOurs: (arg: string) => boolean,
  values: readonly string[] = COMMON.values,
): { readonly options: string[]; readonly rest: readonly string[] } {
  const options: string[] = [];
  let i = 0;
  for (; i < argv.length && isOurs(argv[i]!); i++) {
    const arg = argv[i]!;
    options.push(arg);
    if (values.includes(arg)) options.push(argv[++i] ?? '');
  }
  return { options, rest: argv.slice(i) };
}

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
      if (eq > 0)
        throw new UsageError(
          `The option ${name} of \`${command}\` takes no value; write just ${name}.`,
          command,
        );
      flags.add(name);
    } else if (allValues.has(name)) {
      const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined)
        throw new UsageError(
          `The option ${name} of \`${command}\` needs a value, e.g. ${name} ${name === '--lock-dir' ? 'DIR' : '10'}.`,
          command,
        );
      values.set(name, value);
    } else {
      throw new UsageError(
        `Unknown option ${name} for \`${command}\` (a command to run goes after \`--\`).`,
        command,
      );
    }
  }
  return { command, positionals, flags, values, rest: null };
}

/** A non-negative number option, or undefined when absent. */
export function numberOption(args: ParsedArgs, name: string, what: string): number | undefined {
  const raw = args.values.get(name);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || n < 0)
    throw new UsageError(`${name} wants ${what}, not "${raw}".`, args.command);
  return n;
}
