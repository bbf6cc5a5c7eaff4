// One party's side of a lock: its open lock files, its record, and their cleanup.
import { lockFilePath, gateFilePath, writeMeta } from './files';
import {
  closeHandle,
  tryLock,
  tryLockOffThread,
  unlock,
  type FlockMode,
  selfIdentity,
  thisOs,
  fileSystemKind,
  warnNetworkFsOnce,
} from './os';
import { recordLiveness } from './liveness';
import { canonicalToolchainPath, toolchainKey, type Toolchain } from './keys';
import { defaultLockDir, ensureLockDir, openLockFile } from './lockdir';
import { DEFAULT_POLL_MS, type AcquireOptions } from './options';
import {
  newRecordId,
  PROTOCOL_VERSION,
  removeRecordFile,
  recordFileName,
  writeRecord,
  type HolderRecord,
  type LockMode,
} from './records';

const DEFAULT_LOCK_CALL_LIMIT_MS = 10_000;

export interface Party {
  /** The lock directory this party's files and record are in. */
  readonly dir: string;
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

export interface Context {
  readonly dir: string;
  readonly network: boolean;
  readonly pollMs: number;
  readonly lockCallLimitMs: number;
  readonly warn: (message: string) => void;
}

export const liveParties = new Set<Party>();
let exitHookInstalled = false;

/** At exit, removes the records of parties still alive, in whichever lock directory they are. */
export function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // The kernel drops our locks at exit; removing records too spares others a liveness check.
  process.on('exit', () => {
    for (const p of liveParties)
      if (p.recordWritten && !childStillHolds(p))
        removeRecordFile(p.dir, recordFileName(p.key, p.record.id));
  });
}

export function makeContext(options: AcquireOptions): Context {
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

export function openParty(
  ctx: Context,
  toolchain: Toolchain,
  mode: LockMode,
  options: AcquireOptions,
): Party {
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
    closeHandle(lockFd);
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
  return {
    dir: ctx.dir,
    toolchain: canonical,
    key,
    lockFile,
    gateFile,
    lockFd,
    gateFd,
    record,
    lockHeld: false,
    gateHeld: false,
    recordWritten: false,
    updateListeners: 0,
  };
}

export function publish(ctx: Context, p: Party, changes: Partial<HolderRecord>): void {
  p.record = { ...p.record, ...changes };
  writeRecord(ctx.dir, p.key, p.record);
  p.recordWritten = true;
}

export function closeParty(ctx: Context, p: Party): void {
  // A child that inherited the lock (an update run by a window being closed) still holds it
  // through the same open file: unlocking would take it from the child, and the record names it.
  const inherited = childStillHolds(p);
  for (const [held, fd, file] of [
    [p.lockHeld && !inherited, p.lockFd, p.lockFile],
    [p.gateHeld, p.gateFd, p.gateFile],
  ] as const) {
    try {
      if (held) unlock(fd, file);
    } catch {
      // Closing the descriptor below drops the lock anyway.
    }
    closeHandle(fd);
  }
  p.lockHeld = p.gateHeld = false;
  // Records go after the unlock: their removal is the event that wakes the next party. The record
  // of a lock a child still holds stays: it names the pid the kernel lists for the lock (ours) and
  // the child that runs, and is dead, so removed by whoever looks, once both are gone.
  if (p.recordWritten && !inherited) removeRecordFile(ctx.dir, recordFileName(p.key, p.record.id));
  p.recordWritten = false;
  liveParties.delete(p);
}

/** Whether a child this party handed its lock to is still running. */
function childStillHolds(p: Party): boolean {
  const [first, ...rest] = p.record.children;
  if (!first || !p.lockHeld || !thisOs.childrenKeepLocks) return false;
  return (
    recordLiveness(
      { ...p.record, pid: first.pid, startTime: first.startTime, children: rest },
      selfIdentity(),
    ) === 'alive'
  );
}

/** One non-blocking try; on a network file system off the event loop and bounded in time. */
export function attempt(
  ctx: Context,
  fd: number,
  mode: FlockMode,
  file: string,
): Promise<boolean> | boolean {
  return ctx.network
    ? tryLockOffThread(fd, mode, ctx.lockCallLimitMs, file)
    : tryLock(fd, mode, file);
}
