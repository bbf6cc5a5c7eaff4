import type { AcquireOptions, Disposable, LockHandle } from '../lock';
import { runChild, trapSignals, type ChildOptions } from './child';
import { warn } from './common';
import { signalStatus } from './exit-codes';
import { waitReporter } from './waiting';

export interface LockedRun<L extends LockHandle> {
  /** What we wait for, for the progress line: "read lock of stable". */
  readonly what: string;
  readonly mode: 'read' | 'write';
  readonly cmd: readonly string[];
  /** Takes the lock with the options every CLI party shares (signal, progress, warnings). */
  readonly acquire: (
    options: Pick<AcquireOptions, 'signal' | 'onWait' | 'onWarning' | 'client' | 'command'>,
  ) => Promise<L>;
  /** Runs holding the lock before CMD starts; throwing releases the lock and runs nothing. */
  readonly beforeRun?: (lock: L, signal: AbortSignal) => Promise<void>;
  /** Extra behaviour while CMD runs under the lock. */
  readonly whileHeld?: (lock: L) => Disposable;
  /** CMD's environment (default ours); the lock's nesting marker is added to it. */
  readonly env?: NodeJS.ProcessEnv;
  /** Checked once the lock is held: true runs nothing and resolves with 0 (the work was done meanwhile). */
  readonly needless?: () => boolean;
  /** How CMD is run: which signals it gets from us, where its stdout goes (runChild). */
  readonly child?: Pick<ChildOptions, 'forward' | 'stdoutToStderr' | 'onExit'>;
}

/**
 * Waits for the lock (a signal aborts the wait), runs CMD holding it — CMD inherits the lock's
 * descriptors and the nesting marker — and releases on every way out. Returns CMD's status.
 */
export async function runLocked<L extends LockHandle>(run: LockedRun<L>): Promise<number> {
  const trap = trapSignals();
  const controller = new AbortController();
  trap.setHandler((signal) => controller.abort(signal));
  const reporter = waitReporter(run.what, { mode: run.mode });
  let lock: L;
  try {
    lock = await run.acquire({
      client: 'cli',
      command: run.cmd,
      signal: controller.signal,
      onWait: reporter.onWait,
      onWarning: warn,
    });
  } catch (err) {
    reporter.done(false);
    trap.dispose();
    throw err;
  }
  reporter.done(true);
  try {
    if (trap.received) return signalStatus(trap.received);
    if (run.needless?.()) return 0;
    await run.beforeRun?.(lock, controller.signal);
    if (trap.received) return signalStatus(trap.received);
    const extra = run.whileHeld?.(lock);
    try {
      return await runChild(run.cmd, {
        ...run.child,
        fds: lock.fds,
        env: { ...(run.env ?? process.env), ...lock.childEnv() },
        trap,
        onSpawn: (pid) => lock.addChild(pid),
      });
    } finally {
      extra?.dispose();
    }
  } finally {
    await lock.release();
    trap.dispose();
  }
}
