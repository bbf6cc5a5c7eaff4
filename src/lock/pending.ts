// How a read holder learns that an update is pending: a writer's record appears, and either its
// process is proved alive here or the kernel confirms a writer (the gate is held). A record alone
// never makes a reader step aside: one that nothing can prove dead (another host, another PID
// namespace) would otherwise stop servers for good.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { unlock, selfIdentity, thisOs } from './os';
import { recordLiveness } from './liveness';
import { subscribe, type Disposable } from './notify';
import { attempt, type Context, type Party } from './party';
import { parseRecordFileName, readRecords, recordFileName, type StoredRecord } from './records';
import { readLockSnapshot, holderFromRecord, type Holder } from './lock-state';

// A writer announces itself before it takes the gate (PROTOCOL.md §3), and gives the gate back
// for a while to earlier readers: look again, ever less often, for this long after its record.
const CONFIRM_FOR_MS = 10_000;

/** Calls `listener` once per writer confirmed while `p` holds its read lock. */
export function watchForWriters(
  ctx: Context,
  p: Party,
  released: () => boolean,
  listener: (writer: Holder) => void,
): Disposable {
  const self = selfIdentity();
  const notified = new Set<string>();
  const unconfirmed = new Map<string, Holder>();
  let timer: NodeJS.Timeout | undefined;
  let delay = 1;
  let confirmUntil = 0;

  // A shared try on the gate fails exactly when a writer holds it (off the event loop on a
  // network file system, where a failed call counts as no confirmation).
  const whenGateKnown = (then: (taken: boolean) => void): void => {
    const answer = (free: boolean): void => {
      if (free) unlock(p.gateFd, p.gateFile);
      then(!free);
    };
    const r = attempt(ctx, p.gateFd, 'read', p.gateFile);
    if (typeof r === 'boolean') answer(r);
    else r.then(answer, () => then(false));
  };
  const notify = (id: string, writer: Holder): void => {
    unconfirmed.delete(id);
    if (notified.has(id)) return;
    notified.add(id);
    listener(writer);
  };
  const recheck = (): void => {
    timer = undefined;
    if (released()) return;
    for (const [id, w] of unconfirmed) {
      if (w.recordId && !fs.existsSync(path.join(ctx.dir, recordFileName(p.key, w.recordId))))
        unconfirmed.delete(id);
    }
    if (unconfirmed.size === 0) return;
    whenGateKnown((taken) => {
      if (released()) return;
      if (taken) {
        for (const [id, w] of [...unconfirmed]) notify(id, w);
        return;
      }
      if (Date.now() >= confirmUntil || timer !== undefined) return; // until the next change in the directory
      delay = Math.min(Math.max(1, delay * 2), ctx.pollMs);
      timer = setTimeout(recheck, delay);
      timer.unref();
    });
  };
  const consider = (id: string, writer: Holder, confirmed: boolean): void => {
    if (notified.has(id)) return;
    if (confirmed) return notify(id, writer);
    unconfirmed.set(id, writer);
    confirmUntil = Date.now() + CONFIRM_FOR_MS;
    if (timer === undefined) {
      delay = 0;
      timer = setTimeout(recheck, delay);
      timer.unref();
    }
  };
  const considerRecord = (r: StoredRecord): void => {
    if (r.record.mode !== 'write' || r.record.id === p.record.id) return;
    const liveness = recordLiveness(r.record, self);
    // A live local writer may have given the gate back to earlier readers for a moment (§3 step 2):
    // it is pending all the same.
    if (liveness !== 'dead')
      consider(r.record.id, holderFromRecord(r, liveness), liveness === 'alive');
  };
  const check = (file: string | null): void => {
    if (released()) return;
    if (file !== null) {
      // The common case: one record changed; read just that one.
      const parsed = parseRecordFileName(file);
      if (!parsed || parsed.key !== p.key || parsed.id === p.record.id || notified.has(parsed.id))
        return;
      const one = readRecords(ctx.dir, p.key, file).records[0];
      if (one) considerRecord(one);
      return;
    }
    for (const r of readRecords(ctx.dir, p.key).records) considerRecord(r);
  };

  // On a local file system an idle holder only listens; polling is for network ones. A writer
  // shows up as a record that appears: records that go (every other reader draining) must not
  // wake us.
  const sub = subscribe(
    ctx.dir,
    {
      useWatcher: !ctx.network,
      pollMs: ctx.network ? ctx.pollMs : undefined,
      keepAlive: false,
      arrivalsOnly: true,
      onWarning: ctx.warn,
    },
    check,
  );
  check(null);
  // Once, at subscription: a writer without a record (flock(1) on the gate) shows only in the
  // kernel. The kernel's table costs every flock() on the machine a stall, so it is read only
  // when the gate is taken, to name that writer.
  if (!ctx.network) {
    whenGateKnown((taken) => {
      if (!taken || released()) return;
      const kernel = thisOs.readKernelLockTable();
      const foreign = kernel
        ? readLockSnapshot(ctx.dir, p.key, {
            kernel,
            cleanup: false,
            exclude: new Set([p.record.id]),
          }).writer
        : null;
      if (foreign?.foreign) consider(`foreign-${foreign.pid}`, foreign, true);
    });
  }
  return {
    dispose() {
      clearTimeout(timer);
      sub.dispose();
    },
  };
}
