import * as fs from 'node:fs';
import { LockError } from './errors';
import { lockFilePath, gateFilePath, writeMeta } from './files';
import { tryLock, tryLockBounded, unlock, type FlockMode } from './flock';
import { processStartTime, selfIdentity } from './identity';
import { canonicalToolchainPath, toolchainKey, type Toolchain } from './keys';
import { recordLiveness } from './liveness';
import { defaultLockDir, ensureLockDir, openLockFile } from './lockdir';
import { fileSystemKind, warnNetworkFsOnce } from './netfs';
import { subscribe, type Disposable } from './notify';
import { newRecordId, parseRecordFileName, PROTOCOL_VERSION, readRecords, removeRecordFile, recordFileName, writeRecord, type HolderRecord, type LockMode } from './records';
import { describeLock, holderFromRecord, type Holder } from './status';
import { describeHolders } from './describe';

/** Environment variable naming the toolchain keys an ancestor holds for read (the nested-write guard). */
export const HELD_ENV = 'TOOLCHAIN_LOCK_HELD';
/** Environment variable naming the toolchain keys an ancestor holds for write (an update runs us). */
export const WRITING_ENV = 'TOOLCHAIN_LOCK_WRITING';
export const DEFAULT_POLL_MS = 1000;
const DEFAULT_LOCK_CALL_LIMIT_MS = 10_000;

export interface AcquireOptions {
  readonly lockDir?: string;
  /** "cli", "vscode", or your tool's name. */
  readonly client?: string;
  /** What others are told this party runs; defaults to this process's command line. */
  readonly command?: readonly string[];
  readonly purpose?: string;
  readonly signal?: AbortSignal;
  /** Give up after this long; 0 fails at once when the lock is taken. Undefined waits forever. */
  readonly timeoutMs?: number;
  /** Poll interval for network file systems and for noticing killed holders. */
  readonly pollIntervalMs?: number;
  /** Bound on one lock call on a network file system. */
  readonly lockCallLimitMs?: number;
  /** Called with the current blockers whenever they change while waiting. */
  readonly onWait?: (blockers: readonly Holder[]) => void;
  readonly onWarning?: (message: string) => void;
  /** Environment to read the nested-write marker from (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
}

/** A held lock on one or more toolchains. */
export interface LockHandle extends AsyncDisposable {
  readonly mode: LockMode;
  readonly toolchains: readonly Toolchain[];
  readonly keys: readonly string[];
  readonly lockFiles: readonly string[];
  /** Descriptors of the main lock files; pass them to a child so it keeps the lock if we die. */
  readonly fds: readonly number[];
  readonly released: boolean;
  /** Releases the lock and removes this party's records. Safe to call twice. */
  release(): Promise<void>;
  /** Records that `pid` inherited the lock, so the lock is reported alive while it runs. */
  addChild(pid: number): void;
  /** Environment entries that mark children as running under this lock. */
  childEnv(): Record<string, string>;
}

/** A read lock; it can tell its owner as soon as a writer announces itself. */
export interface ReadLock extends LockHandle {
  /** Calls `listener` once per pending or active writer noticed while this lock is held. */
  onUpdatePending(listener: (writer: Holder) => void): Disposable;
}

interface Party {
  readonly toolchain: Toolchain;
  readonly key: string;
  readonly lockFile: string;
  readonly gateFile: string;
  readonly lockFd: number;
  readonly gateFd: number;
  record: HolderRecord;
  lockHeld: boolean;
  gateHeld: boolean;
  recordWritten: boolean;
  /** Listeners for pending writers: a reader with none will never step aside. */
  updateListeners: number;
}

interface Context {
  readonly dir: string;
  readonly network: boolean;
  readonly pollMs: number;
  readonly lockCallLimitMs: number;
  readonly warn: (message: string) => void;
}

const liveParties = new Set<Party>();
let exitHookInstalled = false;

function installExitHook(dir: string): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // The kernel drops our locks at exit; removing records too spares others a liveness check.
  process.on('exit', () => {
    for (const p of liveParties) if (p.recordWritten) removeRecordFile(dir, recordFileName(p.key, p.record.id));
  });
}

function makeContext(options: AcquireOptions): Context {
  const dir = ensureLockDir(options.lockDir ?? defaultLockDir());
  const warn = options.onWarning ?? ((m: string) => process.emitWarning(m, 'ToolchainLockWarning'));
  const kind = fileSystemKind(dir);
  warnNetworkFsOnce(dir, kind, warn);
  return {
    dir,
    network: kind.network,
    pollMs: options.pollIntervalMs ?? DEFAULT_POLL_MS,
    lockCallLimitMs: options.lockCallLimitMs ?? DEFAULT_LOCK_CALL_LIMIT_MS,
    warn,
  };
}

function openParty(ctx: Context, toolchain: Toolchain, mode: LockMode, options: AcquireOptions): Party {
  const canonical = { name: toolchain.name, path: canonicalToolchainPath(toolchain.path) };
  const key = toolchainKey(canonical.path);
  writeMeta(ctx.dir, key, canonical);
  const lockFile = lockFilePath(ctx.dir, key);
  const gateFile = gateFilePath(ctx.dir, key);
  const lockFd = openLockFile(lockFile);
  let gateFd: number;
  try {
    gateFd = openLockFile(gateFile);
  } catch (err) {
    fs.closeSync(lockFd);
    throw err;
  }
  const self = selfIdentity();
  const record: HolderRecord = {
    protocol: PROTOCOL_VERSION,
    id: newRecordId(),
    toolchain: canonical,
    mode,
    state: 'waiting',
    pid: self.pid,
    startTime: self.startTime,
    host: self.host,
    bootId: self.bootId,
    pidNamespace: self.pidNamespace,
    user: self.user,
    uid: self.uid,
    client: options.client ?? 'library',
    command: options.command ?? [process.argv0, ...process.argv.slice(1)],
    purpose: options.purpose ?? null,
    since: new Date().toISOString(),
    children: [],
  };
  return { toolchain: canonical, key, lockFile, gateFile, lockFd, gateFd, record, lockHeld: false, gateHeld: false, recordWritten: false, updateListeners: 0 };
}

function publish(ctx: Context, p: Party, changes: Partial<HolderRecord>): void {
  p.record = { ...p.record, ...changes };
  writeRecord(ctx.dir, p.key, p.record);
  p.recordWritten = true;
}

function closeParty(ctx: Context, p: Party): void {
  for (const [held, fd] of [[p.lockHeld, p.lockFd], [p.gateHeld, p.gateFd]] as const) {
    try {
      if (held) unlock(fd);
    } catch {
      // Closing the descriptor below drops the lock anyway.
    }
    try {
      fs.closeSync(fd);
    } catch {
      // Already closed.
    }
  }
  p.lockHeld = p.gateHeld = false;
  // Records go after the unlock: their removal is the event that wakes the next party.
  if (p.recordWritten) removeRecordFile(ctx.dir, recordFileName(p.key, p.record.id));
  p.recordWritten = false;
  liveParties.delete(p);
}

function attempt(ctx: Context, fd: number, mode: FlockMode, file: string): Promise<boolean> | boolean {
  return ctx.network ? tryLockBounded(fd, mode, ctx.lockCallLimitMs, file) : tryLock(fd, mode);
}

function blockersOf(ctx: Context, parties: readonly Party[]): Holder[] {
  const own = new Set(parties.map((p) => p.record.id));
  const out: Holder[] = [];
  for (const p of parties) {
    const s = describeLock(ctx.dir, p.key, { kernelTable: !ctx.network, cleanup: true, exclude: own });
    out.push(...s.holders, ...s.waiting.filter((h) => h.mode === 'write' && (p.record.mode === 'read' || Date.parse(h.since ?? '') < Date.parse(p.record.since))));
  }
  return out;
}

/** Waits until `tryAll` succeeds, waking on lock-directory changes and on the poll interval. */
async function waitFor(ctx: Context, parties: readonly Party[], options: AcquireOptions, what: string, tryAll: () => Promise<boolean>): Promise<void> {
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
  const sub = subscribe(ctx.dir, { useWatcher: !ctx.network, pollMs: ctx.pollMs, keepAlive: true, onWarning: ctx.warn }, (file) => {
    if (file !== null && (ownFiles.has(file) || !parties.some((p) => file.includes(p.key)))) return;
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
      if (options.onWait) {
        const blockers = blockersOf(ctx, parties);
        const report = JSON.stringify(blockers.map((b) => [b.recordId, b.pid, b.mode, b.state]));
        if (report !== lastReport) {
          lastReport = report;
          options.onWait(blockers);
        }
      }
      if (!woken) {
        const remaining = deadline - Date.now();
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

function abortError(what: string, signal: AbortSignal): LockError {
  return new LockError('E_ABORTED', `Stopped waiting for the ${what}: cancelled.`, { cause: signal.reason });
}

function heldKeys(env: NodeJS.ProcessEnv, name: string = HELD_ENV): Set<string> {
  return new Set((env[name] ?? '').split(',').filter(Boolean));
}

function makeHandle(ctx: Context, mode: LockMode, parties: Party[], options: AcquireOptions): LockHandle {
  let released = false;
  const handle: LockHandle = {
    mode,
    toolchains: parties.map((p) => p.toolchain),
    keys: parties.map((p) => p.key),
    lockFiles: parties.map((p) => p.lockFile),
    fds: parties.map((p) => p.lockFd),
    get released() {
      return released;
    },
    async release() {
      if (released) return;
      released = true;
      for (const p of parties) closeParty(ctx, p);
    },
    addChild(pid: number) {
      if (released) return;
      const child = { pid, startTime: selfIdentity().procConsistent ? processStartTime(pid) : null };
      for (const p of parties) publish(ctx, p, { children: [...p.record.children, child] });
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
export async function acquireRead(toolchain: Toolchain, options: AcquireOptions = {}): Promise<ReadLock> {
  const ctx = makeContext(options);
  installExitHook(ctx.dir);
  const key = toolchainKey(toolchain.path);
  if (heldKeys(options.env ?? process.env, WRITING_ENV).has(key)) return coveredReadLock(ctx, toolchain, key);
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
        unlock(p.gateFd);
      }
      return p.lockHeld;
    });
    publish(ctx, p, { state: 'held', since: new Date().toISOString() });
  } catch (err) {
    closeParty(ctx, p);
    throw err;
  }
  const handle = makeHandle(ctx, 'read', [p], options);
  return Object.assign(handle, {
    onUpdatePending(listener: (writer: Holder) => void): Disposable {
      const seen = new Set<string>();
      const self = selfIdentity();
      const check = (file: string | null): void => {
        if (handle.released) return;
        if (file !== null) {
          // The common case: one record changed; read just that one.
          const parsed = parseRecordFileName(file);
          if (!parsed || parsed.key !== p.key || parsed.id === p.record.id || seen.has(parsed.id)) return;
          const one = readRecords(ctx.dir, p.key, file).records[0];
          if (!one || one.record.mode !== 'write') return;
          const liveness = recordLiveness(one.record, self);
          if (liveness === 'dead') return;
          seen.add(parsed.id);
          listener(holderFromRecord(one, liveness));
          return;
        }
        const s = describeLock(ctx.dir, p.key, { kernelTable: !ctx.network, cleanup: false, exclude: new Set([p.record.id]) });
        const writer = s.writer;
        if (!writer) return;
        const id = writer.recordId ?? `foreign-${writer.pid}`;
        if (seen.has(id)) return;
        seen.add(id);
        listener(writer);
      };
      // On a local file system an idle holder only listens; polling is for network ones.
      const sub = subscribe(ctx.dir, { useWatcher: !ctx.network, pollMs: ctx.network ? ctx.pollMs : undefined, keepAlive: false, onWarning: ctx.warn }, check);
      p.updateListeners++;
      check(null);
      let disposed = false;
      return {
        dispose() {
          if (disposed) return;
          disposed = true;
          p.updateListeners--;
          sub.dispose();
        },
      };
    },
  });
}

/** Takes the write lock on one or more toolchains (in canonical order), announcing the update first. */
export async function acquireWrite(toolchains: readonly Toolchain[], options: AcquireOptions = {}): Promise<LockHandle> {
  if (toolchains.length === 0) throw new TypeError('acquireWrite needs at least one toolchain');
  const ctx = makeContext(options);
  installExitHook(ctx.dir);
  const requested = [...new Map(toolchains.map((t) => [toolchainKey(t.path), t])).entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
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
    const heldHere = [...liveParties].some((p) => p.key === key && p.record.mode === 'read' && p.lockHeld && p.updateListeners === 0);
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
    await waitFor(ctx, parties, options, `write lock of ${parties.map((p) => p.toolchain.name).join(', ')}`, async () => {
      for (const p of parties) {
        if (!p.gateHeld) {
          if (!(await attempt(ctx, p.gateFd, 'write', p.gateFile))) return false;
          p.gateHeld = true;
          if (deferToEarlierReaders(ctx, p, deferral)) return false;
        }
        if (!p.lockHeld) {
          p.lockHeld = await attempt(ctx, p.lockFd, 'write', p.lockFile);
          if (!p.lockHeld) return false;
        }
      }
      return true;
    });
    for (const p of parties) {
      // Holding LOCK_EX proves nobody else holds the lock: every other held record is stale.
      for (const s of readRecords(ctx.dir, p.key).records) {
        if (s.record.id !== p.record.id && s.record.state === 'held') removeRecordFile(ctx.dir, s.file);
      }
      publish(ctx, p, { state: 'held' });
    }
  } catch (err) {
    for (const p of parties) closeParty(ctx, p);
    throw err;
  }
  return makeHandle(ctx, 'write', parties, options);
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
 * two writers): the writer lets go of the gate for a bounded time until they are in.
 */
function deferToEarlierReaders(ctx: Context, p: Party, deferral: Map<Party, number>): boolean {
  const mine = Date.parse(p.record.since);
  const self = selfIdentity();
  const earlier = readRecords(ctx.dir, p.key).records.filter(
    (s) => s.record.mode === 'read' && s.record.state === 'waiting' && Date.parse(s.record.since) < mine && recordLiveness(s.record, self) !== 'dead',
  );
  if (earlier.length === 0) return false;
  const started = deferral.get(p);
  if (started !== undefined && Date.now() - started > 2 * ctx.pollMs) return false;
  unlock(p.gateFd);
  p.gateHeld = false;
  if (started === undefined) {
    deferral.set(p, Date.now());
    // Releasing a flock makes no file event; rewriting our record wakes the queued readers.
    publish(ctx, p, {});
  }
  return true;
}
