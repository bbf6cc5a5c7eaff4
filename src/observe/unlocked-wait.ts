// An update holding the write lock waits a bounded time for processes that run from its
// toolchains without a lock (unlocked-processes.ts) to exit, naming them.
import { LockError, type Toolchain } from '../lock';
import { status } from './status';
import type { UnlockedProcess } from './unlocked-processes';

/** The unlocked processes of one toolchain, as an update reports them. */
export interface UnlockedReport {
  readonly toolchain: Toolchain;
  readonly processes: readonly UnlockedProcess[];
}

export interface UnlockedWaitOptions {
  readonly lockDir?: string;
  /** How long to wait for them to exit; 0 looks once. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  /** Called with the processes found first, and again whenever the set changes. */
  readonly onProcesses?: (reports: readonly UnlockedReport[]) => void;
  /** Between looks at the process table (no kernel event tells a process's exit to a non-parent). */
  readonly intervalMs?: number;
}

/**
 * Waits up to `timeoutMs` until no process runs from `toolchains` without a lock and returns what
 * is left (empty: none). Called by an update holding the write lock, so no reader is left to hide
 * among: every process still running from the toolchain is one the lock cannot stop.
 */
export async function waitForUnlocked(
  toolchains: readonly Toolchain[],
  options: UnlockedWaitOptions,
): Promise<UnlockedReport[]> {
  const deadline = Date.now() + options.timeoutMs;
  let last = '';
  for (;;) {
    const reports = status({ lockDir: options.lockDir, toolchains })
      .filter((s) => s.unlocked.length > 0 && s.toolchain !== null)
      .map((s) => ({ toolchain: s.toolchain!, processes: s.unlocked }));
    const now = reports
      .map((r) => r.processes.map((p) => `${p.pid}:${p.since}`).join(','))
      .join(';');
    if (now !== last && reports.length > 0) options.onProcesses?.(reports);
    last = now;
    if (reports.length === 0 || Date.now() >= deadline) return reports;
    if (options.signal?.aborted)
      throw new LockError(
        'E_ABORTED',
        'Stopped while waiting for processes without a lock to exit.',
        { cause: options.signal.reason },
      );
    await new Promise<void>((resolve) => {
      const timer = setTimeout(
        done,
        Math.min(options.intervalMs ?? 250, Math.max(0, deadline - Date.now())),
      );
      function done(): void {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', done);
        resolve();
      }
      options.signal?.addEventListener('abort', done, { once: true });
    });
  }
}
