import { defaultLockDir, describeHolder, type Disposable, type ReadLock } from '../lock';
import { resolveToolchain, type ResolvedToolchain } from '../toolchains';
import { numberOption, type ParsedArgs } from './args';
import { UsageError } from './exit-codes';

/** Settings every command takes from --lock-dir / --poll-interval. */
export interface CommonOptions {
  readonly lockDir: string;
  readonly pollIntervalMs: number | undefined;
}

export function commonOptions(args: ParsedArgs): CommonOptions {
  const poll = numberOption(args, '--poll-interval', 'a poll interval in milliseconds (e.g. 250)');
  if (poll !== undefined && poll < 10)
    throw new UsageError('--poll-interval must be at least 10 (milliseconds).', args.command);
  return {
    lockDir: defaultLockDir(
      args.values.has('--lock-dir')
        ? { ...process.env, TOOLCHAIN_LOCK_DIR: args.values.get('--lock-dir') }
        : process.env,
    ),
    pollIntervalMs: poll,
  };
}

/**
 * Resolves TOOLCHAIN arguments (rustup names or paths) to canonical directories. With
 * `allowMissing` (update, status) a rustup channel that is not installed yet names the directory
 * rustup will install it in.
 */
export function resolveSpecs(
  specs: readonly string[],
  options: { readonly allowMissing?: boolean } = {},
): ResolvedToolchain[] {
  return specs.map((s) => resolveToolchain(s, options));
}

/** Writes one diagnostic line on stderr, prefixed like every message of the tool. */
export function say(message: string): void {
  process.stderr.write(`toolchain-lock: ${message}\n`);
}

/** Engine warnings (network file system, watcher trouble) go to stderr. */
export function warn(message: string): void {
  say(`warning: ${message}`);
}

/** While CMD runs under a read lock: tells, once per writer, that an update waits for it. */
export function sayWhenAnUpdateWaits(
  names: string,
  cmd: readonly string[],
): (lock: ReadLock) => Disposable {
  return (lock) =>
    lock.onUpdatePending((writer) => {
      say(
        `an update of ${names} is waiting for \`${cmd.join(' ')}\` to finish: ${describeHolder(writer)}. It starts when this command exits.`,
      );
    });
}
