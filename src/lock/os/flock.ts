// The lock primitive, typed: flock(2) on Linux and macOS, LockFileEx on Windows, both through our
// native module. Every call is a non-blocking try; waiting is ../wait.ts's job.
import { LockError, lockFailure } from '../errors';
import { nativeLock } from './native';

export type FlockMode = 'read' | 'write';

/**
 * Tries to take the lock of `file` (open as `handle`) without blocking; false when someone else
 * holds a conflicting lock. A failing call throws a LockError naming the operation and `file`.
 */
export function tryLock(handle: number, mode: FlockMode, file: string): boolean {
  const native = nativeLock();
  try {
    return native.tryLock(handle, mode === 'write');
  } catch (cause) {
    throw lockFailure(mode === 'write' ? 'lock (exclusive)' : 'lock (shared)', file, cause);
  }
}

/** Calls on a thread of the native module that have not returned yet, by handle. */
const pending = new Map<number, { abandoned: boolean; closeWhenDone: boolean }>();

function hung(where: string, limitMs: number, detail: string): LockError {
  return new LockError(
    'E_LOCK_HUNG',
    `The lock call on ${where} did not return within ${(limitMs / 1000).toFixed(1)} s${detail}. The file system's lock ` +
      'service is not answering (on NFS: is lockd/statd running?). Set TOOLCHAIN_LOCK_DIR to a ' +
      'directory on a local file system if all users of this toolchain are on this machine.',
  );
}

/**
 * Like tryLock, for network file systems, where the kernel can block in a non-blocking flock
 * while the server's lock service does not answer: the call runs on a thread of the native module
 * (not libuv's shared pool, not the event loop) and is given up after `limitMs`. A call given up
 * on keeps its handle open until it returns, so a late lock never lands on a reused descriptor,
 * and a lock it took then is dropped again.
 */
export function tryLockOffThread(
  handle: number,
  mode: FlockMode,
  limitMs: number,
  where: string,
): Promise<boolean> {
  if (pending.has(handle))
    return Promise.reject(hung(where, limitMs, ' (an earlier call on it has not returned either)'));
  const call = { abandoned: false, closeWhenDone: false };
  pending.set(handle, call);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      call.abandoned = true;
      reject(hung(where, limitMs, ''));
    }, limitMs);
    nativeLock().tryLockAsync(handle, mode === 'write', (err, taken) => {
      pending.delete(handle);
      clearTimeout(timer);
      if (call.abandoned) {
        if (call.closeWhenDone) closeHandle(handle);
        else if (taken) unlockQuietly(handle);
        return;
      }
      if (err)
        reject(lockFailure(mode === 'write' ? 'lock (exclusive)' : 'lock (shared)', where, err));
      else resolve(taken);
    });
  });
}

function unlockQuietly(handle: number): void {
  try {
    nativeLock().unlock(handle);
  } catch {
    // Closing it drops the lock anyway.
  }
}

/** Drops whatever lock this handle (of `file`) holds. */
export function unlock(handle: number, file: string): void {
  const native = nativeLock();
  try {
    native.unlock(handle);
  } catch (cause) {
    throw lockFailure('unlock', file, cause);
  }
}

/** Closes a lock file handle (which drops its lock); a second close is harmless. */
export function closeHandle(handle: number): void {
  const call = pending.get(handle);
  if (call) {
    // A lock call on it is still out: closing now could let its answer land on a reused number.
    call.closeWhenDone = true;
    return;
  }
  try {
    nativeLock().close(handle);
  } catch {
    // Already closed.
  }
}
