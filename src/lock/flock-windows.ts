// Windows: fs-ext emulates flock with LockFileEx. The lock is mandatory (a locked byte range
// cannot be read, which is why records live in separate files), and a contended try-lock fails
// with ERROR_LOCK_VIOLATION that fs-ext reports as EWOULDBLOCK, which Node names after the
// Winsock constant on some builds.
export const windowsWouldBlockCodes: readonly string[] = ['EWOULDBLOCK', 'WSAEWOULDBLOCK', 'EAGAIN', 'EACCES'];
