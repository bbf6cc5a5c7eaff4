import {
  acquireRead,
  acquireWrite,
  heldKeys,
  HELD_ENV,
  toolchainKey,
  WRITING_ENV,
  type LockHandle,
  type ReadLock,
} from '../lock';
import { rustupLockPlan } from '../toolchains';
import { COMMON, leadingOptions, parseArgs } from './args';
import { runUnlocked } from './child';
import { commonOptions, say, sayWhenAnUpdateWaits } from './common';
import { runLocked, type LockedRun } from './locked';
import { checkUnlocked, UNLOCKED_OPTIONS, unlockedChoice, type UnlockedChoice } from './unlocked';

/** How `runRustup` runs rustup besides its lock plan. */
export interface RustupRun {
  /** The rustup to run: `rustup` from PATH, or the real one behind a shim. */
  readonly program: string;
  readonly lockDir: string;
  readonly pollIntervalMs: number | undefined;
  readonly env?: NodeJS.ProcessEnv;
  readonly child?: LockedRun<LockHandle>['child'];
  /** Run straight, taking no lock, when an ancestor already holds every lock the plan needs (a shim). */
  readonly straightWhenHeld?: boolean;
  /**
   * What to do about programs running from the toolchains it changes without a lock; asked only
   * when rustup will change toolchains, so a bad TOOLCHAIN_LOCK_UNLOCKED stops no read-only call.
   */
  readonly unlocked: () => UnlockedChoice;
}

/**
 * `rustup ARGS…`: runs rustup with exactly the locks that command needs (docs/CLI.md has the
 * table): the write locks of the toolchains it changes, a read lock for `rustup run T`, none for
 * read-only commands. Unknown subcommands get the write locks of every installed toolchain.
 */
export async function rustupCommand(argv: readonly string[]): Promise<number> {
  // toolchain-lock's own options before rustup's arguments (`--lock-dir DIR`, `--poll-interval=MS`, `--unlocked fail`).
  const ours: readonly string[] = [...COMMON.values, ...UNLOCKED_OPTIONS];
  const { options: own, rest: rustupArgs } = leadingOptions(
    argv,
    (arg) => ours.includes(arg.split('=')[0]!),
    ours,
  );
  const ownArgs = parseArgs('rustup', own, { flags: [], values: [...UNLOCKED_OPTIONS] });
  const common = commonOptions(ownArgs);
  const unlocked = unlockedChoice(ownArgs);
  return runRustup(rustupArgs, { program: 'rustup', ...common, unlocked: () => unlocked });
}

/** True when an ancestor holds `mode` locks of all `keys` (write covers read). */
function heldByAncestor(
  keys: readonly string[],
  mode: 'read' | 'write',
  env: NodeJS.ProcessEnv,
): boolean {
  const writing = heldKeys(env, WRITING_ENV);
  const reading = heldKeys(env, HELD_ENV);
  return (
    keys.length > 0 && keys.every((k) => writing.has(k) || (mode === 'read' && reading.has(k)))
  );
}

/** Runs rustup with ARGS under the locks of its plan; resolves with rustup's status. */
export async function runRustup(rustupArgs: readonly string[], run: RustupRun): Promise<number> {
  const env = run.env ?? process.env;
  const plan = rustupLockPlan(rustupArgs, { cwd: process.cwd(), env });
  const cmd = [run.program, ...rustupArgs];
  const names = plan.toolchains.map((t) => t.name).join(', ');
  const straight = (): Promise<number> => runUnlocked(cmd, { ...run.child, env });
  if (plan.mode === 'none') return straight();
  // Under `toolchain-lock update stable`, its own `rustup update stable` must not wait for itself.
  if (
    run.straightWhenHeld &&
    heldByAncestor(
      plan.toolchains.map((t) => toolchainKey(t.path)),
      plan.mode,
      env,
    )
  )
    return straight();
  if (plan.unknown) {
    say(
      `toolchain-lock does not know \`rustup ${plan.command}\`; it runs with the write locks of every installed toolchain to be safe${names ? ` (${names})` : ''}.`,
    );
  }
  const lockOptions = { lockDir: run.lockDir, pollIntervalMs: run.pollIntervalMs, env };
  if (plan.mode === 'read') {
    const [toolchain] = plan.toolchains;
    return runLocked<ReadLock>({
      what: `read lock of ${names}`,
      mode: 'read',
      cmd,
      env,
      child: run.child,
      acquire: (options) => acquireRead(toolchain!, { ...options, ...lockOptions }),
      whileHeld: sayWhenAnUpdateWaits(names, ['rustup', ...rustupArgs]),
    });
  }
  const unlocked = run.unlocked();
  return runLocked<LockHandle>({
    what: `write lock of ${names}`,
    mode: 'write',
    cmd,
    env,
    child: run.child,
    acquire: (options) => acquireWrite(plan.toolchains, { ...options, ...lockOptions }),
    beforeRun: (_lock, signal) =>
      checkUnlocked(plan.toolchains, unlocked, { lockDir: run.lockDir, signal }),
  });
}
