import * as path from 'node:path';
import { rustupNamed, whichToolchain } from './active';
import { listRustupToolchains } from './rustup';
import type { ResolvedToolchain } from './types';

/**
 * Which toolchains a rustup command line changes or uses, so `toolchain-lock rustup ARGS…` can
 * take exactly those locks (docs/CLI.md has the table). Mirrors rustup's own command line:
 * global options and `+TOOLCHAIN` first, then the subcommand; options that take values are
 * skipped with their values (`-c`/`-t` of `toolchain install` take several, as in rustup).
 */
export interface RustupLockPlan {
  readonly mode: 'write' | 'read' | 'none';
  /** The toolchains to lock (empty for 'none'). */
  readonly toolchains: readonly ResolvedToolchain[];
  /** The subcommand as the table names it, e.g. `toolchain install`. */
  readonly command: string;
  /** Set when toolchain-lock does not know the subcommand: every installed toolchain is locked to be safe. */
  readonly unknown?: true;
}

export interface RustupPlanOptions {
  /** The directory rustup runs in: its active toolchain is the one `component add` etc. change. */
  readonly cwd: string;
  readonly env?: NodeJS.ProcessEnv;
}

/** Options of rustup's subcommands that take one value, and those that take one or more. */
const ONE_VALUE = new Set(['--toolchain', '--profile', '--path']);
const MANY_VALUES = new Set(['-c', '--component', '-t', '--target']);
const READ_ONLY = new Set([
  'show',
  'which',
  'doc',
  'man',
  'check',
  'completions',
  'set',
  'dump-testament',
  'help',
]);

interface Words {
  readonly positionals: readonly string[];
  readonly options: ReadonlyMap<string, string>;
  readonly flags: ReadonlySet<string>;
}

/** Splits a subcommand's arguments; with `stopAtFirst`, everything after the first positional is left alone (`run T CMD…`). */
function words(args: readonly string[], stopAtFirst = false): Words {
  const positionals: string[] = [];
  const options = new Map<string, string>();
  const flags = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      if (stopAtFirst) break;
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (ONE_VALUE.has(name)) {
      options.set(name, eq > 0 ? arg.slice(eq + 1) : (args[++i] ?? ''));
    } else if (MANY_VALUES.has(name) && eq < 0) {
      while (i + 1 < args.length && !args[i + 1]!.startsWith('-')) i++;
    } else if (!MANY_VALUES.has(name)) {
      flags.add(name);
    }
  }
  return { positionals, options, flags };
}

function unique(toolchains: readonly ResolvedToolchain[]): ResolvedToolchain[] {
  return [...new Map(toolchains.map((t) => [t.path, t])).values()];
}

/** Plans the locks of `rustup ARGS…` (ARGS without the program name). Never runs rustup. */
export function rustupLockPlan(
  args: readonly string[],
  options: RustupPlanOptions,
): RustupLockPlan {
  const env = options.env ?? process.env;
  let i = 0;
  let plus: string | undefined;
  for (; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '-v' || arg === '--verbose' || arg === '-q' || arg === '--quiet') continue;
    if (arg.startsWith('+') && plus === undefined) {
      plus = arg.slice(1);
      continue;
    }
    break;
  }
  const sub = args[i];
  const rest = args.slice(i + 1);
  const none = (command: string): RustupLockPlan => ({ mode: 'none', toolchains: [], command });
  const write = (command: string, toolchains: readonly ResolvedToolchain[]): RustupLockPlan =>
    toolchains.length === 0
      ? none(command)
      : { mode: 'write', toolchains: unique(toolchains), command };
  const named = (names: readonly string[]): ResolvedToolchain[] =>
    names.map((n) => rustupNamed(n, env));
  const installed = (): ResolvedToolchain[] => listRustupToolchains(env);
  // The toolchain rustup acts on when none is named: `+T`, else the directory's active one.
  const active = (toolchainOption: string | undefined): ResolvedToolchain[] => {
    const name = toolchainOption ?? plus;
    if (name !== undefined) return named([name]);
    const found = whichToolchain(options.cwd, env);
    return found ? [found.toolchain] : [];
  };
  /** `default`/`override set` of a toolchain that is not installed installs it. */
  const installsIfMissing = (command: string, name: string | undefined): RustupLockPlan => {
    if (name === undefined || name === 'none') return none(command);
    const t = rustupNamed(name, env);
    return t.missing ? write(command, [t]) : none(command);
  };

  if (sub === undefined || sub.startsWith('-')) return none(sub ?? '');
  if (READ_ONLY.has(sub)) return none(sub);
  const w = words(rest);
  switch (sub) {
    case 'update':
    case 'upgrade':
      // Without names rustup updates every channel toolchain; linked ones it leaves alone.
      return write(
        'update',
        w.positionals.length > 0 ? named(w.positionals) : installed().filter((t) => !t.linked),
      );
    case 'install':
      return write(
        'toolchain install',
        w.positionals.length > 0 ? named(w.positionals) : active(undefined),
      );
    case 'uninstall':
      return write('toolchain uninstall', named(w.positionals));
    case 'default':
      return installsIfMissing('default', w.positionals[0]);
    case 'run': {
      const r = words(rest, true);
      const target = r.positionals[0];
      if (target === undefined) return none('run');
      const t = rustupNamed(target, env);
      // `run --install` of a missing toolchain installs it first: that is a write.
      if (t.missing && r.flags.has('--install')) return write('run', [t]);
      return { mode: 'read', toolchains: [t], command: 'run' };
    }
    case 'toolchain':
    case 'component':
    case 'target':
    case 'override':
    case 'self': {
      const action = w.positionals[0];
      const command = action === undefined ? sub : `${sub} ${action}`;
      const args2 = w.positionals.slice(1);
      if (action === undefined || action === 'list' || action === 'help') return none(command);
      if (sub === 'toolchain') {
        if (action === 'install' || action === 'add')
          return write('toolchain install', args2.length > 0 ? named(args2) : active(undefined));
        if (action === 'uninstall' || action === 'remove')
          return write('toolchain uninstall', named(args2));
        if (action === 'link') return write('toolchain link', named(args2.slice(0, 1)));
      } else if (sub === 'component' || sub === 'target') {
        if (['add', 'remove', 'install', 'uninstall'].includes(action))
          return write(`${sub} ${action}`, active(w.options.get('--toolchain')));
      } else if (sub === 'override') {
        if (action === 'set' || action === 'add') return installsIfMissing(command, args2[0]);
        if (action === 'unset' || action === 'remove') return none(command);
      } else {
        if (action === 'uninstall') return write('self uninstall', installed());
        if (action === 'update' || action === 'upgrade-data') return none(command);
      }
      return { ...write(command, installed()), unknown: true };
    }
    default:
      return { ...write(sub, installed()), unknown: true };
  }
}

/** True when `program` (a name or path) is rustup itself. */
function isRustup(program: string): boolean {
  return path.basename(program).replace(/\.exe$/i, '') === 'rustup';
}

/**
 * The toolchains a command line changes when its program is rustup: those `toolchain-lock rustup`
 * would take the write locks of. Empty for any other program, and for rustup commands that change
 * no toolchain. Lets an update run elsewhere (the extension) lock exactly what the wrapper locks.
 */
export function rustupWrites(
  argv: readonly string[],
  options: RustupPlanOptions,
): readonly ResolvedToolchain[] {
  const [program, ...args] = argv;
  if (program === undefined || !isRustup(program)) return [];
  const plan = rustupLockPlan(args, options);
  return plan.mode === 'write' ? plan.toolchains : [];
}

/** rustup's component, target and profile names: nothing in them can read as an option. */
const INSTALL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * `rustup toolchain install NAME` with what a rust-toolchain.toml asks for besides the channel
 * (profile, components, targets), as rustup installs them when it reads the file itself. The
 * name comes first: rustup's `-c`/`-t` take every value that follows. Values that are not plain
 * names are left out and returned in `skipped`.
 */
export function rustupInstallCommand(
  name: string,
  wants?: {
    readonly components: readonly string[];
    readonly targets: readonly string[];
    readonly profile?: string;
  },
): { argv: string[]; skipped: string[] } {
  const argv = ['rustup', 'toolchain', 'install', name];
  const skipped: string[] = [];
  const plain = (values: readonly string[]): string[] =>
    values.filter((v) => INSTALL_NAME.test(v) || void skipped.push(v));
  if (wants?.profile !== undefined) {
    if (['minimal', 'default', 'complete'].includes(wants.profile))
      argv.push('--profile', wants.profile);
    else skipped.push(wants.profile);
  }
  const components = plain(wants?.components ?? []);
  if (components.length > 0) argv.push('--component', components.join(','));
  const targets = plain(wants?.targets ?? []);
  if (targets.length > 0) argv.push('--target', targets.join(','));
  return { argv, skipped };
}
