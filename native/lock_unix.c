/* Linux and macOS: flock(2) on descriptors opened with O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC. */
#define _GNU_SOURCE
#include "tl.h"
#include "watch.h"

#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *errno_name(int e) {
  switch (e) {
#define N(x) case x: return #x;
    N(EACCES) N(EPERM) N(ENOENT) N(ELOOP) N(EBADF) N(EINTR) N(ENOLCK) N(EINVAL) N(EISDIR)
    N(ENOTDIR) N(EROFS) N(ENOSPC) N(EMFILE) N(ENFILE) N(EIO) N(ENAMETOOLONG) N(EDEADLK)
    N(EEXIST) N(ENXIO) N(EMLINK) N(ENOMEM) N(ETXTBSY) N(EDQUOT) N(ESTALE) N(ENOSYS)
#if EWOULDBLOCK != EAGAIN
    N(EWOULDBLOCK)
#endif
    N(EAGAIN)
#if defined(EOPNOTSUPP) && EOPNOTSUPP != ENOTSUP
    N(EOPNOTSUPP)
#endif
    N(ENOTSUP)
#ifdef EFTYPE
    N(EFTYPE)
#endif
#undef N
    default: return "UNKNOWN";
  }
}

void tl_error_from_errno(tl_error *err, int e) {
  err->code = errno_name(e);
  err->number = e;
  snprintf(err->text, sizeof err->text, "%s", strerror(e));
}

static int fail(tl_error *err, int e) {
  tl_error_from_errno(err, e);
  return -1;
}

int tl_open(const char *path, tl_handle *out, tl_error *err) {
  int fd;
  do {
    fd = open(path, O_RDONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return fail(err, errno);
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int e = errno;
    close(fd);
    return fail(err, e);
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return tl_not_regular(err);
  }
  *out = fd;
  return 0;
}

int tl_try_lock(tl_handle h, int exclusive, tl_error *err) {
  int r;
  do {
    r = flock((int)h, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB);
  } while (r != 0 && errno == EINTR);
  if (r == 0) return 1;
  if (errno == EWOULDBLOCK || errno == EAGAIN) return 0;
  return fail(err, errno);
}

int tl_unlock(tl_handle h, tl_error *err) {
  int r;
  do {
    r = flock((int)h, LOCK_UN);
  } while (r != 0 && errno == EINTR);
  return r == 0 ? 0 : fail(err, errno);
}

int tl_close(tl_handle h, tl_error *err) {
  /* Never retried on EINTR: the descriptor is gone either way, and a retry could close a reused one. */
  if (close((int)h) == 0 || errno == EINTR) return 0;
  return fail(err, errno);
}

typedef struct {
  void (*fn)(void *);
  void *arg;
} start;

static void *thread_main(void *p) {
  start s = *(start *)p;
  free(p);
  s.fn(s.arg);
  return NULL;
}

int tl_run_detached(void (*fn)(void *), void *arg) {
  start *s = malloc(sizeof *s);
  if (!s) return ENOMEM;
  s->fn = fn;
  s->arg = arg;
  pthread_attr_t attr;
  pthread_t t;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  int r = pthread_create(&t, &attr, thread_main, s);
  pthread_attr_destroy(&attr);
  if (r != 0) free(s);
  return r;
}
