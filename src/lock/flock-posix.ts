// flock(2) with LOCK_NB fails with EWOULDBLOCK, which equals EAGAIN on Linux and macOS.
export const posixWouldBlockCodes: readonly string[] = ['EAGAIN', 'EWOULDBLOCK'];
