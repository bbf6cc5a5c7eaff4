import * as fs from 'node:fs';
import * as path from 'node:path';
import { isToolchainKey, type Toolchain } from './keys';
import {
  processExited,
  selfIdentity,
  lockHeirs,
  processCommandLine,
  type KernelLock,
  type KernelLockTable,
  closeHandle,
  tryLock,
  unlock,
} from './os';
import { recordLiveness, type Liveness } from './liveness';
import {
  readRecords,
  removeRecordFile,
  type HolderRecord,
  type LockMode,
  type RecordProblem,
  type StoredRecord,
} from './records';
import { lockFilePath, gateFilePath, readMeta } from './files';
import { openLockFile } from './lockdir';
import { liveParties } from './party';

/** One party of a lock as reported to people and scripts. */
export interface Holder {
  readonly mode: LockMode;
  /** `waiting` for a writer means an update is pending. */
  readonly state: 'held' | 'waiting';
  readonly pid: number;
  readonly host: string;
  readonly user: string | null;
  readonly client: string | null;
  readonly command: readonly string[];
  readonly purpose: string | null;
  readonly since: string | null;
  readonly liveness: Liveness;
  /** Locked with plain flock(1) or another tool that writes no record. */
  readonly foreign: boolean;
  /** Processes that inherited the lock and keep it held (e.g. the command of `toolchain-lock run`). */
  readonly children: readonly number[];
  /** True for a record of the calling process itself. */
  readonly self: boolean;
  readonly recordId: string | null;
}

export type LockState = 'free' | 'read' | 'write' | 'update-pending';

/** What the lock files, the records and the kernel say about one toolchain's lock. */
export interface LockSnapshot {
  readonly key: string;
  readonly toolchain: Toolchain | null;
  /** The file a plain `flock -s` must lock to take part as a reader. */
  readonly lockFile: string;
  readonly gateFile: string;
  readonly state: LockState;
  /** Parties holding the lock (readers, or the one writer). */
  readonly holders: readonly Holder[];
  /** The pending or active writer, if any. */
  readonly writer: Holder | null;
  /** Parties waiting for the lock (pending writers, queued readers). */
  readonly waiting: readonly Holder[];
  readonly problems: readonly RecordProblem[];
}

/** A holder as reported, from its record and judged liveness. */
export function holderFromRecord(stored: StoredRecord, liveness: Liveness): Holder {
  const r: HolderRecord = stored.record;
  const self = selfIdentity();
  return {
    mode: r.mode,
    state: r.state,
    pid: r.pid,
    host: r.host,
    user: r.user,
    client: r.client,
    command: r.command,
    purpose: r.purpose,
    since: r.since,
    liveness,
    foreign: false,
    children: r.children.map((c) => c.pid),
    self: r.pid === self.pid && r.host === self.host && r.pidNamespace === self.pidNamespace,
    recordId: r.id,
  };
}

/**
 * A holder the kernel lists without a record. Its pid may be gone (a `flock(1)` SIGKILLed while
 * its command runs): then the processes that hold the lock through its descriptor are its
 * children, and what they run is its command; liveness is unknown if none of them can be seen.
 */
function foreignHolder(k: KernelLock, file: { dev: number; ino: number } | null): Holder {
  const gone = !fs.existsSync(`/proc/${k.pid}`) || processExited(k.pid);
  const heirs = gone && file !== null ? lockHeirs(k.pid, file) : [];
  const shown = heirs[0] ?? k.pid;
  return {
    mode: k.mode,
    state: k.blocked ? 'waiting' : 'held',
    pid: k.pid,
    host: selfIdentity().host,
    user: null,
    client: null,
    command: processCommandLine(shown) ?? [],
    purpose: null,
    since: null,
    liveness: gone && heirs.length === 0 ? 'unknown' : 'alive',
    foreign: true,
    children: heirs,
    self: false,
    recordId: null,
  };
}

export interface SnapshotOptions {
  /**
   * Local fs on Linux: the kernel's lock table (read once by the caller with
   * readKernelLockTable, shared by every key it describes). Null elsewhere: we probe the lock.
   */
  readonly kernel: KernelLockTable | null;
  /** Remove records proved dead. */
  readonly cleanup: boolean;
  /** Record ids of the caller's own parties, left out of the holders it is told about. */
  readonly exclude?: ReadonlySet<string>;
  /** Without the kernel's table, try the lock to learn its state (default); false: records only. */
  readonly probe?: boolean;
}

/** Reads one toolchain's lock from its records and the kernel's view, removing dead records when told to. */
export function readLockSnapshot(
  dir: string,
  key: string,
  options: SnapshotOptions,
  preloaded?: StoredRecord[],
  problems: RecordProblem[] = [],
): LockSnapshot {
  const self = selfIdentity();
  const stored = preloaded ?? readRecords(dir, key).records;
  const lockFile = lockFilePath(dir, key);
  const gateFile = gateFilePath(dir, key);
  const meta = readMeta(dir, key);

  const live: { stored: StoredRecord; liveness: Liveness }[] = [];
  for (const s of stored) {
    const liveness = recordLiveness(s.record, self);
    if (liveness === 'dead') {
      if (options.cleanup) removeRecordFile(dir, s.file);
      continue;
    }
    live.push({ stored: s, liveness });
  }

  let mainLocks: KernelLock[] | null = null;
  let gateLocks: KernelLock[] | null = null;
  const mainFile = options.kernel ? statOf(lockFile) : null;
  const gateStat = options.kernel ? statOf(gateFile) : null;
  if (options.kernel) {
    mainLocks = mainFile ? options.kernel.locksOf(mainFile) : [];
    gateLocks = gateStat ? options.kernel.locksOf(gateStat) : [];
  }

  const samePidSpace = (r: HolderRecord): boolean =>
    r.host === self.host &&
    r.bootId === self.bootId &&
    r.pidNamespace === self.pidNamespace &&
    self.procConsistent;
  // With the kernel's table every holder of a local lock is in it: a held record of another boot
  // of this host names nobody (PROTOCOL.md §4.2). Not provably dead, so kept; said, not hidden.
  const earlierBoot = (r: HolderRecord): boolean =>
    r.host === self.host && r.bootId !== null && self.bootId !== null && r.bootId !== self.bootId;
  const kernelPids = new Set((mainLocks ?? []).filter((k) => !k.blocked).map((k) => k.pid));
  const holders: Holder[] = [];
  const waiting: Holder[] = [];
  const recordPids = new Set<number>();
  for (const { stored: s, liveness } of live) {
    const r = s.record;
    if (samePidSpace(r)) {
      recordPids.add(r.pid);
      for (const c of r.children) recordPids.add(c.pid);
    }
    if (options.exclude?.has(r.id)) continue;
    const h = holderFromRecord(s, liveness);
    if (r.state === 'waiting') {
      waiting.push(h);
      continue;
    }
    if (mainLocks !== null && earlierBoot(r)) {
      problems.push({
        file: s.file,
        reason: `held by pid ${r.pid} of another boot of this host (${r.bootId}): it holds nothing now; the next writer removes it`,
      });
      continue;
    }
    // A held record whose process the kernel does not list is between unlock and record removal.
    if (
      mainLocks !== null &&
      samePidSpace(r) &&
      !kernelPids.has(r.pid) &&
      !r.children.some((c) => kernelPids.has(c.pid))
    )
      continue;
    holders.push(h);
  }
  for (const k of mainLocks ?? []) {
    if (recordPids.has(k.pid) || k.pid === self.pid) continue;
    (k.blocked ? waiting : holders).push(foreignHolder(k, mainFile));
  }
  for (const k of gateLocks ?? []) {
    // A foreign process holding the gate exclusively is a writer announcing itself without a record
    // (or one whose record we read before it was written): pending, not holding the lock.
    if (k.mode === 'write' && !k.blocked && !recordPids.has(k.pid) && k.pid !== self.pid)
      waiting.push({ ...foreignHolder(k, gateStat), state: 'waiting' });
  }

  let state: LockState;
  const activeWriter = holders.find((h) => h.mode === 'write');
  const pendingWriter = waiting.find((h) => h.mode === 'write');
  if (mainLocks !== null) {
    const mainWrite = mainLocks.some((k) => !k.blocked && k.mode === 'write');
    const gateWrite = (gateLocks ?? []).some((k) => !k.blocked && k.mode === 'write');
    const mainRead = mainLocks.some((k) => !k.blocked && k.mode === 'read');
    state = mainWrite
      ? 'write'
      : gateWrite || pendingWriter
        ? 'update-pending'
        : mainRead
          ? 'read'
          : 'free';
  } else {
    state =
      (options.probe !== false ? probeState(lockFile) : null) ??
      (activeWriter ? 'write' : holders.length > 0 ? 'read' : 'free');
    if (state !== 'write' && pendingWriter) state = 'update-pending';
  }
  return {
    key,
    toolchain: meta,
    lockFile,
    gateFile,
    state,
    holders: state === 'free' ? [] : holders,
    writer: activeWriter ?? pendingWriter ?? null,
    waiting,
    problems,
  };
}

function statOf(file: string): fs.Stats | null {
  try {
    return fs.statSync(file);
  } catch {
    return null;
  }
}

/** Where the kernel table is not available: try the lock briefly to learn its state. */
function probeState(lockFile: string): LockState | null {
  if (!fs.existsSync(lockFile)) return 'free';
  // On NFS flock is a POSIX lock of the process, which closing ANY descriptor of the file drops:
  // never open and close a lock file this process holds; what we hold is what we know.
  const ours = [...liveParties].find((p) => p.lockFile === lockFile && p.lockHeld);
  if (ours) return ours.record.mode === 'write' ? 'write' : 'read';
  let fd: number;
  try {
    fd = openLockFile(lockFile);
  } catch {
    return null;
  }
  try {
    if (tryLock(fd, 'write', lockFile)) {
      unlock(fd, lockFile);
      return 'free';
    }
    if (tryLock(fd, 'read', lockFile)) {
      unlock(fd, lockFile);
      return 'read';
    }
    return 'write';
  } finally {
    closeHandle(fd);
  }
}

/** Lists every toolchain key that has a lock file in the directory. */
export function listKeys(dir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => n.endsWith('.lock'))
    .map((n) => path.basename(n, '.lock'))
    .filter(isToolchainKey)
    .sort();
}
