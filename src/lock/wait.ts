// Waiting for a lock: try, subscribe, try again, sleep until the directory changes or a poll.
// The decisions (when to try, when to report) are WaitSchedule's (wait-schedule.ts).
import * as path from 'node:path';
import { describeHolders } from './describe';
import { LockError } from './errors';
import { subscribe } from './notify';
import type { AcquireOptions } from './options';
import { publish, type Context, type Party } from './party';
import { recordFileName } from './records';
import { thisOs } from './os';
import { readLockSnapshot, type Holder } from './lock-state';
import { WaitSchedule, type Attempt } from './wait-schedule';

/**
 * Who a waiting party waits for: from the records, and with `kernel` also from one (expensive)
 * read of the kernel's table for all its keys, which adds holders without a record.
 */
function blockersOf(ctx: Context, parties: readonly Party[], kernel = true): Holder[] {
  const own = new Set(parties.map((p) => p.record.id));
  const table = kernel && !ctx.network ? thisOs.readKernelLockTable() : null;
  const out: Holder[] = [];
  for (const p of parties) {
    const s = readLockSnapshot(ctx.dir, p.key, {
      kernel: table,
      cleanup: true,
      exclude: own,
      probe: kernel,
    });
    const mine = Date.parse(p.record.since);
    const earlier = (h: Holder): boolean => Date.parse(h.since ?? '') < mine;
    // A reader waits for writers; a writer for earlier writers, and for the readers that queued
    // before it, which it lets in first (PROTOCOL.md §3).
    out.push(
      ...s.holders,
      ...s.waiting.filter(
        (h) =>
          (h.mode === 'write' && (p.record.mode === 'read' || earlier(h))) ||
          (p.record.mode === 'write' && h.mode === 'read' && earlier(h)),
      ),
    );
  }
  return out;
}

export type { Attempt } from './wait-schedule';

/**
 * Waits until `tryAll` succeeds, waking on lock-directory changes and on closes of the parties'
 * lock and gate files (the kernel's events), or on the poll interval where those cannot be seen.
 * When to try and when to report is WaitSchedule's; this loop does the I/O.
 */
export async function waitFor(
  ctx: Context,
  parties: readonly Party[],
  options: AcquireOptions,
  what: string,
  tryAll: () => Promise<Attempt>,
): Promise<void> {
  if ((await tryAll()) === true) return;
  const describe = (): string => describeHolders(blockersOf(ctx, parties));
  if (options.timeoutMs === 0) {
    throw new LockError(
      'E_WOULD_BLOCK',
      `The ${what} is taken and waiting was not allowed; held by ${describe()}.`,
    );
  }
  if (options.signal?.aborted) throw abortError(what, options.signal);
  for (const p of parties) if (!p.recordWritten) publish(ctx, p, { state: 'waiting' });
  const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
  const schedule = new WaitSchedule(deadline, options.onWait !== undefined);
  const ownFiles = new Set(parties.map((p) => recordFileName(p.key, p.record.id)));
  let wake: (() => void) | null = null;
  const files = parties.flatMap((p) => [p.lockFile, p.gateFile]);
  const gateFiles = new Set(parties.map((p) => path.basename(p.gateFile)));
  // Set right below; events never come before subscribe returns.
  let kernelEvents = (): boolean => false;
  // Opens too: a holder without a record (flock(1)) arriving changes who blocks us.
  const sub = subscribe(
    ctx.dir,
    {
      useWatcher: !ctx.network,
      pollMs: ctx.pollMs,
      keepAlive: true,
      files,
      opens: true,
      onWarning: ctx.warn,
    },
    (file, kind) => {
      if (file !== null && (ownFiles.has(file) || !parties.some((p) => file.includes(p.key))))
        return;
      const heard = {
        kind,
        gateClose: kind === 'close' && gateFiles.has(file ?? ''),
        lockOnly: kernelEvents() && parties.every((p) => p.gateHeld),
      };
      if (schedule.heard(heard, Date.now())) wake?.();
    },
  );
  kernelEvents = () => sub.kernel;
  // An abort can come from inside the loop (an onWait callback): it must not be slept through.
  const onAbort = (): void => {
    schedule.aborted();
    wake?.();
  };
  options.signal?.addEventListener('abort', onAbort);
  let lastReport = '';
  try {
    for (;;) {
      const turn = schedule.startTurn(Date.now());
      if (turn) {
        if (options.signal?.aborted) throw abortError(what, options.signal);
        const attempt = await tryAll();
        if (attempt === true) return;
        if (schedule.timedOut(Date.now())) {
          throw new LockError(
            'E_TIMEOUT',
            `Timed out after ${((options.timeoutMs ?? 0) / 1000).toFixed(1)} s waiting for the ${what}; still held by ${describe()}.`,
          );
        }
        schedule.failedTry(attempt, turn.afterClose, Date.now());
      }
      const report = schedule.reportNow(Date.now(), sub.kernel);
      if (report && options.onWait) {
        // The first report reads only the records; when they name nobody, the holder wrote none
        // (a plain flock): the kernel's table is worth reading at once.
        let blockers = blockersOf(ctx, parties, report.kernel);
        if (blockers.length === 0 && !report.kernel) blockers = blockersOf(ctx, parties, true);
        const text = JSON.stringify(blockers.map((b) => [b.recordId, b.pid, b.mode, b.state]));
        if (text !== lastReport) {
          lastReport = text;
          options.onWait(blockers);
        }
      }
      const sleep = schedule.sleepMs(Date.now());
      if (sleep !== null) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          if (sleep !== Infinity) setTimeout(resolve, sleep).unref();
        });
        wake = null;
        schedule.wokeUp();
      }
    }
  } finally {
    // Removing inotify watches costs more than the rest of a hand-off: the caller gets the lock
    // first. A late event meanwhile only wakes a loop that has ended.
    setImmediate(() => sub.dispose());
    options.signal?.removeEventListener('abort', onAbort);
  }
}

export function abortError(what: string, signal: AbortSignal): LockError {
  return new LockError('E_ABORTED', `Stopped waiting for the ${what}: cancelled.`, {
    cause: signal.reason,
  });
}
