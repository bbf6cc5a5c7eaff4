// Waiting for a lock: try, subscribe, try again, sleep until the directory changes or a poll.
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

/** Who a waiting party waits for: one (expensive) read of the kernel's table for all its keys. */
function blockersOf(ctx: Context, parties: readonly Party[]): Holder[] {
  const own = new Set(parties.map((p) => p.record.id));
  const kernel = ctx.network ? null : thisOs.readKernelLockTable();
  const out: Holder[] = [];
  for (const p of parties) {
    const s = describeLock(ctx.dir, p.key, { kernel, cleanup: true, exclude: own });
    out.push(...s.holders, ...s.waiting.filter((h) => h.mode === 'write' && (p.record.mode === 'read' || Date.parse(h.since ?? '') < Date.parse(p.record.since))));
  }
  return out;
}

/** Waits until `tryAll` succeeds, waking on lock-directory changes and on the poll interval. */
export async function waitFor(ctx: Context, parties: readonly Party[], options: AcquireOptions, what: string, tryAll: () => Promise<boolean>): Promise<void> {
  if (await tryAll()) return;
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
  let lastReportAt = 0;
  const sub = subscribe(ctx.dir, { useWatcher: !ctx.network, pollMs: ctx.pollMs, keepAlive: true, onWarning: ctx.warn }, (file) => {
    if (file !== null && (ownFiles.has(file) || !parties.some((p) => file.includes(p.key)))) return;
    if (file !== null) recordsChanged = true;
    woken = true;
    wake?.();
  });
  const onAbort = (): void => wake?.();
  options.signal?.addEventListener('abort', onAbort);
  let lastReport = '';
  try {
    for (;;) {
      if (woken) {
        woken = false;
        if (options.signal?.aborted) throw abortError(what, options.signal);
        if (await tryAll()) return;
        if (Date.now() >= deadline) {
          throw new LockError('E_TIMEOUT', `Timed out after ${((options.timeoutMs ?? 0) / 1000).toFixed(1)} s waiting for the ${what}; still held by ${describe()}.`);
        }
      }
      let reportDue = Infinity;
      if (options.onWait) {
        const sinceReport = Date.now() - lastReportAt;
        if ((recordsChanged && sinceReport >= REPORT_MIN_MS) || sinceReport >= REPORT_MAX_MS) {
          recordsChanged = false;
          lastReportAt = Date.now();
          const blockers = blockersOf(ctx, parties);
          const report = JSON.stringify(blockers.map((b) => [b.recordId, b.pid, b.mode, b.state]));
          if (report !== lastReport) {
            lastReport = report;
            options.onWait(blockers);
          }
        } else if (recordsChanged) {
          reportDue = REPORT_MIN_MS - sinceReport;
        }
      }
      if (!woken) {
        const remaining = Math.min(deadline - Date.now(), reportDue);
        await new Promise<void>((resolve) => {
          wake = resolve;
          if (remaining !== Infinity) setTimeout(resolve, Math.max(0, remaining)).unref();
        });
        wake = null;
        woken = true;
      }
    }
  } finally {
    sub.dispose();
    options.signal?.removeEventListener('abort', onAbort);
  }
}

export function abortError(what: string, signal: AbortSignal): LockError {
  return new LockError('E_ABORTED', `Stopped waiting for the ${what}: cancelled.`, { cause: signal.reason });
}
