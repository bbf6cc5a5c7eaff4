// The lock primitive, typed: flock(2) on Linux and macOS, LockFileEx on Windows, both through our
// native module. Every call is a non-blocking try; waiting is wait.ts's job.
import { LockError } from './errors';
import { nativeLock } from './native';

export type FlockMode = 'read' | 'write';

/** Tries to take the lock without blocking; false when someone else holds a conflicting lock. */
export function tryLock(handle: number, mode: FlockMode): boolean {
  return nativeLock().tryLock(handle, mode === 'write');
}

/**
 * Like tryLock, for network file systems, where a lock call can hang in the kernel when the
 * server's lock service is broken. The call runs on the calling thread: it cannot be abandoned
 * halfway, so the limit reports a call that took too long instead of leaving it to land later.
 */
export function tryLockReported(handle: number, mode: FlockMode, limitMs: number, where: string): boolean {
  const started = Date.now();
  const taken = tryLock(handle, mode);
  const took = Date.now() - started;
  if (took > limitMs) {
    if (taken) unlock(handle);
    throw new LockError(
      'E_LOCK_HUNG',
      `The lock call on ${where} took ${(took / 1000).toFixed(1)} s (limit ${(limitMs / 1000).toFixed(1)} s). The file system's lock ` +
        'service is not answering in time (on NFS: is lockd/statd running?). Set TOOLCHAIN_LOCK_DIR to a ' +
        'directory on a local file system if all users of this toolchain are on this machine.',
    );
  }
  return taken;
}

/** Drops whatever lock this handle holds. */
export function unlock(handle: number): void {
  nativeLock().unlock(handle);
}

/** Closes a lock file handle (which drops its lock); a second close is harmless. */
export function closeHandle(handle: number): void {
  try {
    nativeLock().close(handle);
  } catch {
    // Already closed.
  }
}
