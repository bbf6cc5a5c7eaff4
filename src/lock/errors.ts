/** Stable error codes; the CLI maps them to exit statuses and the extension to notifications. */
export type LockErrorCode =
  | 'E_LOCKDIR_UNSAFE'
  | 'E_LOCKDIR_UNWRITABLE'
  | 'E_LOCKFILE_UNSAFE'
  | 'E_TIMEOUT'
  | 'E_WOULD_BLOCK'
  | 'E_NESTED_WRITE'
  | 'E_ABORTED'
  | 'E_LOCK_HUNG'
  | 'E_LOCK_UNSUPPORTED'
  | 'E_LOCK_FAILED'
  | 'E_NATIVE_MODULE'
  | 'E_UNLOCKED_PROCESSES';

/**
 * An engine failure with a code a program can switch on and a message a person can act on. Like
 * Go's fs.PathError, a failed system call also says which operation on which file.
 */
export class LockError extends Error {
  readonly code: LockErrorCode;
  /** The operation that failed (`lock`, `unlock`, `open`), when one did. */
  readonly op: string | undefined;
  /** The file it was done on. */
  readonly path: string | undefined;
  constructor(
    code: LockErrorCode,
    message: string,
    options?: { cause?: unknown; op?: string; path?: string },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LockError';
    this.code = code;
    this.op = options?.op;
    this.path = options?.path;
  }
}

// errno codes saying this file system (or kernel) cannot lock files at all, not that we misused it.
const UNSUPPORTED = new Set(['ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'ENOLCK']);

/**
 * A lock call's system error as a LockError naming the operation and the file. ENOTSUP, ENOSYS and
 * ENOLCK (a file system without locks, NFS without its lock service, a full kernel lock table)
 * are E_LOCK_UNSUPPORTED with what to do; anything else is E_LOCK_FAILED with the errno.
 */
export function lockFailure(op: string, file: string, cause: unknown): LockError {
  if (cause instanceof LockError) return cause;
  const errno = errnoCode(cause) ?? 'unknown error';
  const what = `Cannot ${op} ${file} (${errno}: ${message(cause)})`;
  if (UNSUPPORTED.has(errno)) {
    const why =
      errno === 'ENOLCK'
        ? 'the kernel or the file server has no lock to give (NFS without lockd/statd, or the lock table is full)'
        : 'this file system cannot lock files';
    return new LockError(
      'E_LOCK_UNSUPPORTED',
      `${what}: ${why}. Set TOOLCHAIN_LOCK_DIR (or --lock-dir, or toolchainLock.lockDir) to a directory on a local file system that every user of the toolchain shares.`,
      { cause, op, path: file },
    );
  }
  return new LockError('E_LOCK_FAILED', `${what}.`, { cause, op, path: file });
}

/** True when `err` is a LockError with one of the given codes. */
export function isLockError(err: unknown, ...codes: LockErrorCode[]): err is LockError {
  return err instanceof LockError && (codes.length === 0 || codes.includes(err.code));
}

/** The errno code of a Node system error, if it has one. */
export function errnoCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    return typeof err.code === 'string' ? err.code : undefined;
  }
  return undefined;
}

/** The text of any thrown value, for a log line or a notification. */
export function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
