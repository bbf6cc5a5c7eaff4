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
  | 'E_NATIVE_MODULE'
  | 'E_RELEASED'
  | 'E_UNLOCKED_PROCESSES';

/** An engine failure with a code a program can switch on and a message a person can act on. */
export class LockError extends Error {
  readonly code: LockErrorCode;
  constructor(code: LockErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LockError';
    this.code = code;
  }
}

/** True when `err` is a LockError with one of the given codes. */
export function isLockError(err: unknown, ...codes: LockErrorCode[]): err is LockError {
  return err instanceof LockError && (codes.length === 0 || codes.includes(err.code));
}

/** The errno code of a Node system error, if it has one. */
export function errnoCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = (err as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}
