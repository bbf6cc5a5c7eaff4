/* The OS seam of the native lock module: what lock.c (Node-API glue) needs from each OS.
 * lock_unix.c implements it with open(2)/flock(2), lock_windows.c with CreateFileW/LockFileEx.
 * Handles are small integers on every OS: a file descriptor, or a Windows HANDLE value. */
#ifndef TL_H
#define TL_H

#include <stdint.h>

typedef int64_t tl_handle;

/* An OS error: a stable code name (errno style, e.g. "ELOOP"), the OS number, and a text. */
typedef struct {
  const char *code;
  long number;
  char text[256];
} tl_error;

/* Opens (creating if needed, mode 0644) a lock file without following a symbolic link and
 * without blocking on a FIFO; refuses anything but a regular file (code "EFTYPE"). */
int tl_open(const char *path_utf8, tl_handle *out, tl_error *err);

/* Fills `err` for a lock file that is not a regular file (code "EFTYPE"); returns -1. */
int tl_not_regular(tl_error *err);

/* Tries to take a shared or exclusive lock without blocking: 1 taken, 0 held by someone else,
 * -1 error. */
int tl_try_lock(tl_handle h, int exclusive, tl_error *err);

/* Drops this handle's lock. */
int tl_unlock(tl_handle h, tl_error *err);

int tl_close(tl_handle h, tl_error *err);

/* Runs fn(arg) on a new detached thread of our own (never a shared pool); 0 on success. */
int tl_run_detached(void (*fn)(void *), void *arg);

#endif
