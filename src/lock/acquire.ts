// acquireRead / acquireWrite: the protocol of docs/PROTOCOL.md §3 over the parties' lock files.
import { cleanKeys } from './clean';
import { LockError, message } from './errors';
import { lockFilePath } from './files';
import { unlock, childIdentity, selfIdentity, thisOs } from './os';
import { canonicalToolchainPath, toolchainKey, type Toolchain } from './keys';
import { recordLiveness } from './liveness';
import type { Disposable } from './notify';
import {
  heldKeys,
  HELD_ENV,
  WRITING_ENV,
  type AcquireOptions,
  type LockHandle,
  type ReadLock,
} from './options';
import {
  attempt,
  closeParty,
  installExitHook,
  liveParties,
  makeContext,
  openParty,
  publish,
  type Context,
  type Party,
} from './party';
import { readRecords, removeRecordFile, type LockMode } from './records';
import type { Holder } from './lock-state';
import { watchForWriters } from './pending';
import { waitFor } from './wait';

/** `beforeRelease` runs while the lock is still held, right before it goes. */
function makeHandle(
  ctx: Context,
  mode: LockMode,
  parties: Party[],
  options: AcquireOptions,
  beforeRelease?: () => void,
): LockHandle {
  let released = false;
  const handle: LockHandle = {
    mode,
    toolchains: parties.map((p) => p.toolchain),
    keys: parties.map((p) => p.key),
    lockFiles: parties.map((p) => p.lockFile),
    // Where a child cannot keep the lock (Windows), the wrapper holds it until the child ends.
    fds: thisOs.childrenKeepLocks ? parties.map((p) => p.lockFd) : [],
    get released() {
      return released;
    },
    async release() {
      if (released) return;
      released = true;
      beforeRelease?.();
      for (const p of parties) closeParty(ctx, p);
    },
    addChild(pid: number) {
      if (released) return;
      const child = childIdentity(pid);
      // A handle exists only once the lock is held, even if the writer's own record update is still queued.
      for (const p of parties)
        publish(ctx, p, { state: 'held', children: [...p.record.children, child] });
    },
    childEnv(): Record<string, string> {
      const name = mode === 'read' ? HELD_ENV : WRITING_ENV;
      const keys = heldKeys(options.env ?? process.env, name);
      for (const p of parties) keys.add(p.key);
      return { [name]: [...keys].join(',') };
    },
    [Symbol.asyncDispose]() {
      return handle.release();
    },
  };
  return handle;
}

/** Takes a read lock on a toolchain, waiting behind any pending or active writer. */
export async function acquireRead(
  toolchain: Toolchain,
  options: AcquireOptions = {},
): Promise<ReadLock> {
  const ctx = makeContext(options);
  installExitHook();
  const key = toolchainKey(toolchain.path);
  if (heldKeys(options.env ?? process.env, WRITING_ENV).has(key))
    return coveredReadLock(ctx, toolchain, key);
  const p = openParty(ctx, toolchain, 'read', options);
  liveParties.add(p);
  try {
    // An ancestor already reads this toolchain: queueing behind a pending writer would deadlock
    // (the writer waits for the ancestor, the ancestor for us), and no writer can hold it anyway.
    const nested = heldKeys(options.env ?? process.env).has(p.key);
    await waitFor(ctx, [p], options, `read lock of ${p.toolchain.name}`, async () => {
      if (nested) return (p.lockHeld = await attempt(ctx, p.lockFd, 'read', p.lockFile));
      if (!(await attempt(ctx, p.gateFd, 'read', p.gateFile))) return false;
      try {
        p.lockHeld = await attempt(ctx, p.lockFd, 'read', p.lockFile);
      } finally {
        unlock(p.gateFd, p.gateFile);
      }
      return p.lockHeld;
    });
    publish(ctx, p, { state: 'held', since: new Date().toISOString() });
  } catch (err) {
    closeParty(ctx, p);
    throw err;
  }
  const handle = makeHandle(ctx, 'read', [p], options);
  cleanUpAfter(ctx, [p]);
  return Object.assign(handle, {
    onUpdatePending(listener: (writer: Holder) => void): Disposable {
      const watcher = watchForWriters(ctx, p, () => handle.released, listener);
      p.updateListeners++;
      let disposed = false;
      return {
        dispose() {
          if (disposed) return;
          disposed = true;
          p.updateListeners--;
          watcher.dispose();
        },
      };
    },
  });
}

/** Takes the write lock on one or more toolchains (in canonical order), announcing the update first. */
export async function acquireWrite(
  toolchains: readonly Toolchain[],
  options: AcquireOptions = {},
): Promise<LockHandle> {
  if (toolchains.length === 0) throw new TypeError('acquireWrite needs at least one toolchain');
  const ctx = makeContext(options);
  installExitHook();
  const requested = [...new Map(toolchains.map((t) => [toolchainKey(t.path), t])).entries()].sort(
    ([a], [b]) => (a < b ? -1 : a > b ? 1 : 0),
  );
  const inherited = heldKeys(options.env ?? process.env);
  const writing = heldKeys(options.env ?? process.env, WRITING_ENV);
  for (const [key, t] of requested) {
    if (writing.has(key)) {
      throw new LockError(
        'E_NESTED_WRITE',
        `Refusing to wait for the write lock of ${t.name}: this process runs under the write lock of it ` +
          '(an ancestor such as `toolchain-lock update`), so it would wait for itself forever. The update already has the toolchain to itself.',
      );
    }
    const heldHere = [...liveParties].some(
      (p) => p.key === key && p.record.mode === 'read' && p.lockHeld && p.updateListeners === 0,
    );
    if (inherited.has(key) || heldHere) {
      throw new LockError(
        'E_NESTED_WRITE',
        `Refusing to wait for the write lock of ${t.name}: ${heldHere ? 'this process' : 'this process runs under a read lock of it (an ancestor such as `toolchain-lock run`)'} ` +
          `holds it for read without listening for updates, so the update would wait for itself forever. Run the update outside of that command.`,
      );
    }
  }
  const parties: Party[] = [];
  try {
    for (const [, t] of requested) {
      const p = openParty(ctx, t, 'write', options);
      liveParties.add(p);
      parties.push(p);
    }
    // Announce on every toolchain before waiting on any, so all readers start draining at once.
    for (const p of parties) publish(ctx, p, { state: 'waiting' });
    const deferral = new Map<Party, number>();
    await waitFor(
      ctx,
      parties,
      options,
      `write lock of ${parties.map((p) => p.toolchain.name).join(', ')}`,
      async () => {
        for (const p of parties) {
          if (!p.gateHeld) {
            if (!(await attempt(ctx, p.gateFd, 'write', p.gateFile))) return false;
            p.gateHeld = true;
            const deferUntil = deferToEarlierReaders(ctx, p, deferral);
            if (deferUntil !== null) return deferUntil;
          }
          if (!p.lockHeld) {
            p.lockHeld = await attempt(ctx, p.lockFd, 'write', p.lockFile);
            if (!p.lockHeld) return false;
          }
        }
        return true;
      },
    );
  } catch (err) {
    for (const p of parties) closeParty(ctx, p);
    throw err;
  }
  // PROTOCOL.md §3 writer step 4, once, while LOCK_EX is ours: right after the hand-off, or on a
  // release that comes first (a short update), never after (a new holder's record would go).
  let settled = false;
  const settle = (announce: boolean): void => {
    if (settled) return;
    settled = true;
    try {
      for (const p of parties) {
        // Holding LOCK_EX proves nobody else holds the lock: every other held record is stale.
        for (const s of readRecords(ctx.dir, p.key).records) {
          if (s.record.id !== p.record.id && s.record.state === 'held')
            removeRecordFile(ctx.dir, s.file);
        }
        if (announce) publish(ctx, p, { state: 'held' });
      }
    } catch (err) {
      ctx.warn(
        `Holding the write lock, but could not update its records in ${ctx.dir}: ${message(err)}. \`status\` may show the update as pending.`,
      );
    }
  };
  const handle = makeHandle(ctx, 'write', parties, options, () => settle(false));
  // The kernel lock is ours now; the records only tell others, so the caller does not wait for
  // them (they cost more than the hand-off itself). Until then our record says "waiting", which
  // readers treat alike: a writer is in the way.
  setImmediate(() => settle(true));
  cleanUpAfter(ctx, parties);
  return handle;
}

/**
 * Parties that take a lock clean up after those that died (PROTOCOL.md §4.2): dead records and
 * abandoned temporary files of their keys, off the hand-off's path. Dead is dead whenever it is
 * proved, so this may run after a release.
 */
function cleanUpAfter(ctx: Context, parties: readonly Party[]): void {
  setImmediate(() => {
    try {
      cleanKeys(
        ctx.dir,
        parties.map((p) => p.key),
      );
    } catch (err) {
      ctx.warn(`Could not clean up dead records in ${ctx.dir}: ${message(err)}`);
    }
  });
}

/**
 * A read lock for a process that runs inside an update of the same toolchain: the ancestor's
 * exclusive lock already covers it, and asking the kernel for a shared one would wait forever.
 */
function coveredReadLock(ctx: Context, toolchain: Toolchain, key: string): ReadLock {
  let released = false;
  const handle: ReadLock = {
    mode: 'read',
    toolchains: [{ name: toolchain.name, path: canonicalToolchainPath(toolchain.path) }],
    keys: [key],
    lockFiles: [lockFilePath(ctx.dir, key)],
    fds: [],
    get released() {
      return released;
    },
    async release() {
      released = true;
    },
    addChild() {},
    childEnv: () => ({}),
    onUpdatePending: () => ({ dispose() {} }),
    [Symbol.asyncDispose]: async () => {
      released = true;
    },
  };
  return handle;
}

/**
 * Readers that queued before this writer announced itself go first (no reader starves between
 * two writers): the writer lets go of the gate for a bounded time until they are in. Returns the
 * time to look again by (nothing else may wake us), or null when the writer goes on.
 */
function deferToEarlierReaders(
  ctx: Context,
  p: Party,
  deferral: Map<Party, number>,
): number | null {
  const mine = Date.parse(p.record.since);
  const self = selfIdentity();
  const earlier = readRecords(ctx.dir, p.key).records.filter(
    (s) =>
      s.record.mode === 'read' &&
      s.record.state === 'waiting' &&
      Date.parse(s.record.since) < mine &&
      recordLiveness(s.record, self) !== 'dead',
  );
  if (earlier.length === 0) return null;
  const started = deferral.get(p);
  if (started !== undefined && Date.now() - started > 2 * ctx.pollMs) return null;
  unlock(p.gateFd, p.gateFile);
  p.gateHeld = false;
  if (started === undefined) deferral.set(p, Date.now());
  // Releasing a flock makes no file event; rewriting our record wakes the queued readers (every
  // time: one may have tried the gate in the moment we held it again).
  publish(ctx, p, {});
  return (started ?? Date.now()) + 2 * ctx.pollMs + 1;
}
