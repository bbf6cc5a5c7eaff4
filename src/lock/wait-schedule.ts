// When a waiting party tries its locks again, and when it re-reads who blocks it: the wake-up
// logic of waitFor (wait.ts) as a small object with named transitions. No I/O and no clock of its
// own (every transition is given `now`), so it is unit-tested without processes.
import type { ChangeKind } from './notify';

export const REPORT_MIN_MS = 250;
export const REPORT_MAX_MS = 5000;
// Linux sends a file's close event just before it drops the closing holder's flock (__fput):
// a try that fails right after one is repeated a few times, briefly, instead of polling.
export const AFTER_CLOSE_RETRY_MS: readonly number[] = [1, 2, 4, 8, 16, 32, 64];
// Records of many parties change in bursts (readers draining for a writer): one try after it.
export const ENTRY_SETTLE_MS = 2;

/** What one try of a waiting party gives: held, not yet, or not yet but look again at this time (ms). */
export type Attempt = boolean | number;

/** What an event is, as far as the schedule cares. */
export interface Heard {
  readonly kind: ChangeKind;
  /** A close of one of our gate files (not of a lock file). */
  readonly gateClose: boolean;
  /**
   * We hold every gate and the kernel reports every close: only a close of a lock file can free
   * what we wait for (readers draining must not make us try on every record they remove).
   */
  readonly lockOnly: boolean;
}

export class WaitSchedule {
  /** An event (or the start) wants a turn of the loop. */
  private woken = true;
  /** The next turn tries the locks. */
  private tryWanted = true;
  /** Try at this time at the latest without any event (retries after a close, a fairness deferral). */
  private tryAt = Infinity;
  private wokenByClose = false;
  /** Index into AFTER_CLOSE_RETRY_MS while retrying after a close; -1 otherwise. */
  private closeRetry = -1;
  /** Who blocks us is worth re-reading (records or holders without one came or went). */
  private recordsChanged = true;
  private lastReportAt = 0;
  /** The kernel's (expensive) table has been read for a report once. */
  private kernelReported = false;
  /** When the next report is due, if it is waiting for REPORT_MIN_MS to pass. */
  private reportDue = Infinity;

  /**
   * @param deadline when to give up (ms since the epoch; Infinity: never)
   * @param reporting whether anyone listens to who blocks us (onWait)
   */
  constructor(
    private readonly deadline: number,
    private readonly reporting: boolean,
  ) {}

  /** An event from the lock directory or a lock file; true when the loop must wake for it. */
  heard(event: Heard, now: number): boolean {
    const { kind, gateClose, lockOnly } = event;
    if (kind === 'entry' || kind === 'open') this.recordsChanged = true;
    if (kind === 'close' && !(lockOnly && gateClose)) {
      this.wokenByClose = true;
      this.closeRetry = 0;
      this.tryWanted = true;
    } else if (kind === 'poll' || (kind === 'entry' && !lockOnly)) {
      this.tryWanted = true;
    } else if (kind === 'entry') {
      // A client that unlocks without closing (against PROTOCOL.md §3) still removes its record.
      this.tryAt = Math.min(this.tryAt, now + ENTRY_SETTLE_MS);
    } else if (kind !== 'open' || !this.reporting) {
      // A gate closing while we hold every gate; an arrival nobody wants reported.
      return false;
    }
    this.woken = true;
    return true;
  }

  /** The wait was cancelled: the next turn tries (and sees the abort) at once. */
  aborted(): void {
    this.tryWanted = true;
    this.woken = true;
  }

  /** The loop slept and woke (an event or its timer). */
  wokeUp(): void {
    this.woken = true;
  }

  /** Start of a turn: whether to try the locks now, and whether a close brought us here. */
  startTurn(now: number): { readonly afterClose: boolean } | null {
    if (this.woken) {
      this.woken = false;
      if (now >= Math.min(this.tryAt, this.deadline)) this.tryWanted = true;
    }
    if (!this.tryWanted) return null;
    this.tryWanted = false;
    this.tryAt = Infinity;
    const afterClose = this.wokenByClose;
    this.wokenByClose = false;
    return { afterClose };
  }

  timedOut(now: number): boolean {
    return now >= this.deadline;
  }

  /** A try that did not get the locks: when to try again without an event. */
  failedTry(attempt: Attempt, afterClose: boolean, now: number): void {
    // A party that gives way for a bounded time (writer fairness) must look again by itself.
    if (typeof attempt === 'number') this.tryAt = attempt;
    if (afterClose || this.closeRetry > 0) {
      const next =
        this.closeRetry >= 0 && this.closeRetry < AFTER_CLOSE_RETRY_MS.length
          ? AFTER_CLOSE_RETRY_MS[this.closeRetry++]!
          : Infinity;
      if (next === Infinity) this.closeRetry = -1;
      this.tryAt = Math.min(this.tryAt, now + next);
    }
  }

  /**
   * Whether to tell who blocks us now, and from what: at once from the records, from the kernel's
   * table only once the wait has lasted REPORT_MIN_MS (reading it stalls every flock() on the
   * machine, the releases we wait for included), then again when records change, and every
   * REPORT_MAX_MS where the kernel does not report every open and close (`kernelWakes`).
   */
  reportNow(now: number, kernelWakes: boolean): { readonly kernel: boolean } | null {
    this.reportDue = Infinity;
    if (!this.reporting) return null;
    const sinceReport = now - this.lastReportAt;
    const kernelDue = !this.kernelReported && this.lastReportAt > 0;
    if (
      (this.recordsChanged && sinceReport >= REPORT_MIN_MS) ||
      (kernelDue && sinceReport >= REPORT_MIN_MS) ||
      (!kernelWakes && sinceReport >= REPORT_MAX_MS)
    ) {
      this.recordsChanged = false;
      const first = this.lastReportAt === 0;
      this.lastReportAt = now;
      this.kernelReported ||= !first;
      if (!this.kernelReported) this.reportDue = REPORT_MIN_MS;
      return { kernel: !first };
    }
    if (this.recordsChanged || kernelDue) this.reportDue = REPORT_MIN_MS - sinceReport;
    return null;
  }

  /** How long to sleep before the next turn (Infinity: until an event); null: no sleep, a turn is due. */
  sleepMs(now: number): number | null {
    if (this.woken || this.tryWanted) return null;
    return Math.max(0, Math.min(this.deadline - now, this.reportDue, this.tryAt - now));
  }
}
