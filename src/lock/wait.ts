// Waiting for a lock: try, subscribe, try again, sleep until the directory changes or a poll.
import * as path from 'node:path';
import { describeHolders } from './describe';
import { LockError } from './errors';
import { subscribe } from './notify';
import type { AcquireOptions } from './options';
import { publish, type Context, type Party } from './party';
import { recordFileName } from './records';
import { thisOs } from './os';
import { describeLock, type Holder } from './status';

const REPORT_MIN_MS = 250;
const REPORT_MAX_MS = 5000;
// Linux sends a file's close event just before it drops the closing holder's flock (__fput):
// a try that fails right after one is repeated a few times, briefly, instead of polling.
const AFTER_CLOSE_RETRY_MS = [1, 2, 4, 8, 16, 32, 64];
// Records of many parties change in bursts (readers draining for a writer): one try after it.
const ENTRY_SETTLE_MS = 2;

/**
 * Who a waiting party waits for: from the records, and with `kernel` also from one (expensive)
 * read of the kernel's table for all its keys, which adds holders without a record.
 */
function blockersOf(ctx: Context, parties: readonly Party[], kernel = true): Holder[] {
  const own = new Set(parties.map((p) => p.record.id));
  const table = kernel && !ctx.network ? thisOs.readKernelLockTable() : null;
  const out: Holder[] = [];
  for (const p of parties) {
    const s = describeLock(ctx.dir, p.key, { kernel: table, cleanup: true, exclude: own, probe: kernel });
    const mine = Date.parse(p.record.since);
    const earlier = (h: Holder): boolean => Date.parse(h.since ?? '') < mine;
    // A reader waits for writers; a writer for earlier writers, and for the readers that queued
    // before it, which it lets in first (PROTOCOL.md §3).
    out.push(...s.holders, ...s.waiting.filter((h) => (h.mode === 'write' && (p.record.mode === 'read' || earlier(h))) || (p.record.mode === 'write' && h.mode === 'read' && earlier(h))));
  }
  return out;
}

/** What one try of a waiting party gives: held, not yet, or not yet but look again at this time (ms). */
export type Attempt = boolean | number;

/**
 * Waits until `tryAll` succeeds, waking on lock-directory changes and on closes of the parties'
 * lock and gate files (the kernel's events), or on the poll interval where those cannot be seen.
 */
export async function waitFor(ctx: Context, parties: readonly Party[], options: AcquireOptions, what: string, tryAll: () => Promise<Attempt>): Promise<void> {
  if ((await tryAll()) === true) return;
  const describe = (): string => describeHolders(blockersOf(ctx, parties));
  if (options.timeoutMs === 0) {
    throw new LockError('E_WOULD_BLOCK', `The ${what} is taken and waiting was not allowed; held by ${describe()}.`);
  }
  if (options.signal?.aborted) throw abortError(what, options.signal);
  for (const p of parties) if (!p.recordWritten) publish(ctx, p, { state: 'waiting' });
  const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
  const ownFiles = new Set(parties.map((p) => recordFileName(p.key, p.record.id)));
  let wake: (() => void) | null = null;
  // Events that arrive before we sleep must not be lost: start true and try once more below.
  let woken = true;
  // Who blocks us is worth re-reading when the records change, not on every poll tick (the
  // kernel's table is expensive), and not more often than REPORT_MIN_MS.
  let recordsChanged = true;
  // Who blocks us is told at once from the records, and from the kernel's table only once the wait
  // has lasted REPORT_MIN_MS: reading it stalls every flock() on the machine, the releases we wait
  // for included, and most waits are over by then.
  let lastReportAt = 0;
  let kernelReported = false;
  // Index into AFTER_CLOSE_RETRY_MS while retrying after a close; -1 otherwise.
  let closeRetry = -1;
  let wokenByClose = false;
  // Whether the next turn tries the locks (an event that can free one, a poll, an abort), and when
  // to try at the latest without any event (retries after a close, the end of a fairness deferral).
  let tryWanted = true;
  let tryAt = Infinity;
  const files = parties.flatMap((p) => [p.lockFile, p.gateFile]);
  const gateFiles = new Set(parties.map((p) => path.basename(p.gateFile)));
  // Set right below; events never come before subscribe returns.
  let kernelEvents = (): boolean => false;
  // Opens too: a holder without a record (flock(1)) arriving changes who blocks us.
  const sub = subscribe(ctx.dir, { useWatcher: !ctx.network, pollMs: ctx.pollMs, keepAlive: true, files, opens: true, onWarning: ctx.warn }, (file, kind) => {
    if (file !== null && (ownFiles.has(file) || !parties.some((p) => file.includes(p.key)))) return;
    // A writer holding every gate waits for the lock alone, and with the kernel's events a lock is
    // only ever freed by a close of it (a holder letting go or dying). Readers draining for it must
    // not make it try 150 times in a burst: records going and gates closing then only refresh who
    // is reported, and a burst of record changes is tried once, shortly after.
    const lockOnly = kernelEvents() && parties.every((p) => p.gateHeld);
    if (kind === 'entry' || kind === 'open') recordsChanged = true;
    if (kind === 'close' && !(lockOnly && gateFiles.has(file ?? ''))) {
      wokenByClose = true;
      closeRetry = 0;
      tryWanted = true;
    } else if (kind === 'poll' || (kind === 'entry' && !lockOnly)) {
      tryWanted = true;
    } else if (kind === 'entry') {
      // A client that unlocks without closing (against PROTOCOL.md §3) still removes its record.
      tryAt = Math.min(tryAt, Date.now() + ENTRY_SETTLE_MS);
    } else if (kind !== 'open' || !options.onWait) {
      return;
    }
    woken = true;
    wake?.();
  });
  kernelEvents = () => sub.kernel;
  // An abort can come from inside the loop (an onWait callback): it must not be slept through.
  const onAbort = (): void => {
    tryWanted = true;
    woken = true;
    wake?.();
  };
  options.signal?.addEventListener('abort', onAbort);
  let lastReport = '';
  try {
    for (;;) {
      if (woken) {
        woken = false;
        if (Date.now() >= Math.min(tryAt, deadline)) tryWanted = true;
      }
      if (tryWanted) {
        tryWanted = false;
        tryAt = Infinity;
        const afterClose = wokenByClose;
        wokenByClose = false;
        if (options.signal?.aborted) throw abortError(what, options.signal);
        const attempt = await tryAll();
        if (attempt === true) return;
        // A party that gives way for a bounded time (writer fairness) must look again by itself.
        if (typeof attempt === 'number') tryAt = attempt;
        if (Date.now() >= deadline) {
          throw new LockError('E_TIMEOUT', `Timed out after ${((options.timeoutMs ?? 0) / 1000).toFixed(1)} s waiting for the ${what}; still held by ${describe()}.`);
        }
        if (afterClose || closeRetry > 0) {
          const next = closeRetry >= 0 && closeRetry < AFTER_CLOSE_RETRY_MS.length ? AFTER_CLOSE_RETRY_MS[closeRetry++]! : Infinity;
          if (next === Infinity) closeRetry = -1;
          tryAt = Math.min(tryAt, Date.now() + next);
        }
      }
      let reportDue = Infinity;
      if (options.onWait) {
        const sinceReport = Date.now() - lastReportAt;
        // Where the kernel reports every open and close, nothing changes unseen: no periodic look.
        const kernelDue = !kernelReported && lastReportAt > 0;
        if ((recordsChanged && sinceReport >= REPORT_MIN_MS) || (kernelDue && sinceReport >= REPORT_MIN_MS) || (!sub.kernel && sinceReport >= REPORT_MAX_MS)) {
          recordsChanged = false;
          const first = lastReportAt === 0;
          lastReportAt = Date.now();
          kernelReported ||= !first;
          const blockers = blockersOf(ctx, parties, !first);
          const report = JSON.stringify(blockers.map((b) => [b.recordId, b.pid, b.mode, b.state]));
          if (report !== lastReport) {
            lastReport = report;
            options.onWait(blockers);
          }
          if (!kernelReported) reportDue = REPORT_MIN_MS;
        } else if (recordsChanged || kernelDue) {
          reportDue = REPORT_MIN_MS - sinceReport;
        }
      }
      if (!woken && !tryWanted) {
        const remaining = Math.min(deadline - Date.now(), reportDue, tryAt - Date.now());
        await new Promise<void>((resolve) => {
          wake = resolve;
          if (remaining !== Infinity) setTimeout(resolve, Math.max(0, remaining)).unref();
        });
        wake = null;
        woken = true;
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
  return new LockError('E_ABORTED', `Stopped waiting for the ${what}: cancelled.`, { cause: signal.reason });
}
