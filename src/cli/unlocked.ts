// Before an update runs: processes running from its toolchains without a lock are named on
// stderr, waited for a bounded time, and then the update proceeds or stops as the user chose
// (--unlocked wait|proceed|fail, --unlocked-timeout SECONDS, or TOOLCHAIN_LOCK_UNLOCKED[_TIMEOUT]).
import { LockError, type Toolchain } from '../lock';
import { describeUnlocked, waitForUnlocked, type UnlockedReport } from '../observe';
import { numberOption, type ParsedArgs } from './args';
import { say } from './common';
import { UsageError } from './exit-codes';

export type UnlockedPolicy = 'wait' | 'proceed' | 'fail';

export interface UnlockedChoice {
  readonly policy: UnlockedPolicy;
  readonly timeoutMs: number;
}

/** The options that choose it, for commands that update. */
export const UNLOCKED_OPTIONS = ['--unlocked', '--unlocked-timeout'] as const;
export const UNLOCKED_ENV = 'TOOLCHAIN_LOCK_UNLOCKED';
export const UNLOCKED_TIMEOUT_ENV = 'TOOLCHAIN_LOCK_UNLOCKED_TIMEOUT';
/** Long enough for a build or a test run to finish, short enough for someone waiting at a prompt. */
export const DEFAULT_UNLOCKED_TIMEOUT_S = 30;

function policyOf(raw: string, from: string, command: string): UnlockedPolicy {
  if (raw === 'wait' || raw === 'proceed' || raw === 'fail') return raw;
  throw new UsageError(`${from} wants wait, proceed or fail, not "${raw}".`, command);
}

/** Flags first, then the environment; `--no-wait` makes the wait zero (they are still named). */
export function unlockedChoice(
  args: ParsedArgs,
  options: { readonly noWait?: boolean } = {},
): UnlockedChoice {
  const flag = args.values.get('--unlocked');
  const seconds = numberOption(args, '--unlocked-timeout', 'a number of seconds (e.g. 30)');
  return choose(
    flag === undefined ? undefined : policyOf(flag, '--unlocked', args.command),
    seconds,
    process.env,
    args.command,
    options.noWait ?? false,
  );
}

/** The environment's choice alone, for a caller without our flags (the rustup shim). */
export function unlockedChoiceFromEnv(env: NodeJS.ProcessEnv, command: string): UnlockedChoice {
  return choose(undefined, undefined, env, command, false);
}

function choose(
  flagPolicy: UnlockedPolicy | undefined,
  flagSeconds: number | undefined,
  env: NodeJS.ProcessEnv,
  command: string,
  noWait: boolean,
): UnlockedChoice {
  const envPolicy = env[UNLOCKED_ENV];
  const policy = flagPolicy ?? (envPolicy ? policyOf(envPolicy, UNLOCKED_ENV, command) : 'wait');
  let seconds = flagSeconds;
  const raw = env[UNLOCKED_TIMEOUT_ENV];
  if (seconds === undefined && raw) {
    seconds = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(seconds) || seconds < 0)
      throw new UsageError(
        `${UNLOCKED_TIMEOUT_ENV} wants a number of seconds, not "${raw}".`,
        command,
      );
  }
  const timeoutMs =
    policy === 'fail' || noWait ? 0 : Math.round((seconds ?? DEFAULT_UNLOCKED_TIMEOUT_S) * 1000);
  return { policy, timeoutMs };
}

function reportLines(reports: readonly UnlockedReport[]): string {
  return reports
    .map((r) => `${r.toolchain.name}: ${r.processes.map(describeUnlocked).join('; ')}`)
    .join('; ');
}

/**
 * Names the processes without a lock, waits for them as chosen, and throws E_UNLOCKED_PROCESSES
 * (exit 75) when the update must not start. Called holding the write locks of `toolchains`.
 */
export async function checkUnlocked(
  toolchains: readonly Toolchain[],
  choice: UnlockedChoice,
  options: { readonly lockDir: string; readonly signal: AbortSignal },
): Promise<void> {
  let named = false;
  const left = await waitForUnlocked(toolchains, {
    lockDir: options.lockDir,
    timeoutMs: choice.timeoutMs,
    signal: options.signal,
    onProcesses(reports) {
      const wait =
        choice.timeoutMs > 0
          ? `; waiting up to ${(choice.timeoutMs / 1000).toFixed(0)} s for them to exit`
          : '';
      say(`${named ? 'still ' : ''}running without a lock: ${reportLines(reports)}${wait}`);
      named = true;
    },
  });
  if (left.length === 0) {
    if (named) say('they have exited; the update starts.');
    return;
  }
  if (choice.policy === 'proceed') {
    say(
      `updating anyway (--unlocked proceed): they may fail or misbehave while their files are replaced.`,
    );
    return;
  }
  const how =
    choice.policy === 'fail'
      ? '--unlocked fail'
      : choice.timeoutMs === 0
        ? '--no-wait'
        : `still running after ${(choice.timeoutMs / 1000).toFixed(0)} s`;
  throw new LockError(
    'E_UNLOCKED_PROCESSES',
    `Not updating (${how}): processes run from the toolchain without a lock and would have files replaced under them: ${reportLines(left)}.`,
  );
}
