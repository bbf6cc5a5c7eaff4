/* Linux: kernel wake-ups for waiting parties. One inotify descriptor per JavaScript environment,
 * read by a thread of this module's own (never libuv's shared pool), which hands each event to
 * JavaScript through a thread-safe function. Besides directory changes (records appear, change,
 * go), it reports IN_CLOSE on lock and gate files: the kernel sends it whenever any holder's
 * descriptor closes, including when the holder is SIGKILLed, which no file event shows otherwise.
 *
 *   watchStart(callback(wd, kind, name))   kind: "entry" | "dir-entry" | "close" | "open" | "change" | "overflow" | "gone" | "failed"
 *                                          "failed": the thread ended on an error (wd -1, name "poll: <strerror>"
 *                                          or "read: …"); no event comes any more, callers must poll
 *   watchAdd(path, what) -> wd             what: "entries" | "arrivals" | "changes" (a directory) | "closes" | "opens-closes"
 *   watchRemove(wd)
 *   watchKeepAlive(bool)                   whether pending watches keep the process alive
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <node_api.h>

#include "tl.h"
#include "watch.h"

typedef struct {
  int inotify_fd;
  int stop_fd;
  pthread_t thread;
  int running;
  /* Fault injection for the test of a failing thread (TOOLCHAIN_LOCK_TEST_WATCH_FAULT=read):
   * the first read(2) fails with EIO, as a real failure would. Nothing else sets it. */
  int fail_first_read;
  napi_threadsafe_function tsfn;
} watcher;

typedef struct {
  int wd;
  const char *kind;
  char name[];
} event_msg;

/* The watched directory or file itself removed or moved away: nothing more will come from it. */
#define GONE_MASK (IN_DELETE_SELF | IN_MOVE_SELF)
/* Records are written to a temporary file and renamed into place, and removed when released. */
#define ENTRY_MASK (IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM | GONE_MASK)
/* Names that appear only: an idle reader waits for a writer's record, and must not be woken by
 * every other reader's record going (50 readers draining would wake each other 2,500 times). */
#define ARRIVAL_MASK (IN_CREATE | IN_MOVED_TO | GONE_MASK)
/* A toolchain directory being changed: entries (files and subdirectories) appear, go or are
 * renamed, or a file in it is written or has its mode changed. Reads (IN_ACCESS, IN_OPEN,
 * IN_CLOSE_NOWRITE) are not changes and never wake anyone. Reported as kind "change". */
#define CHANGE_MASK (IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM | IN_MODIFY | IN_ATTRIB | GONE_MASK)

/* IN_MODIFY and IN_ATTRIB are asked for by "changes" watches only, so they alone mark one; entries
 * of subdirectories (IN_ISDIR) matter there too but never in the lock directory. */
static const char *kind_of(uint32_t mask) {
  if (mask & IN_Q_OVERFLOW) return "overflow";
  if (mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT)) return "gone";
  if (mask & (IN_MODIFY | IN_ATTRIB)) return "change";
  if ((mask & IN_ISDIR) && (mask & (IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM))) return "dir-entry";
  if (mask & IN_ISDIR) return NULL;
  if (mask & (IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM)) return "entry";
  if (mask & (IN_CLOSE_WRITE | IN_CLOSE_NOWRITE)) return "close";
  if (mask & IN_OPEN) return "open";
  return NULL;
}

static void post(watcher *w, int wd, const char *kind, const char *name, size_t len) {
  event_msg *msg = malloc(sizeof *msg + len + 1);
  if (!msg) return;
  msg->wd = wd;
  msg->kind = kind;
  memcpy(msg->name, name, len);
  msg->name[len] = 0;
  if (napi_call_threadsafe_function(w->tsfn, msg, napi_tsfn_nonblocking) != napi_ok) free(msg);
}

/* The thread cannot go on: say so, or waiters that rely on its events would never wake. */
static void *fail(watcher *w, const char *syscall, int err) {
  char text[160];
  int n = snprintf(text, sizeof text, "%s: %s (errno %d)", syscall, strerror(err), err);
  post(w, -1, "failed", text, n < 0 ? 0 : (size_t)n < sizeof text ? (size_t)n : sizeof text - 1);
  return NULL;
}

static void *run(void *arg) {
  watcher *w = arg;
  /* Large enough for many events at once; inotify events are aligned for struct inotify_event. */
  char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
  struct pollfd fds[2] = {{w->inotify_fd, POLLIN, 0}, {w->stop_fd, POLLIN, 0}};
  for (;;) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return fail(w, "poll", errno);
    }
    if (fds[1].revents) break;
    ssize_t n = read(w->inotify_fd, buf, sizeof buf);
    if (w->fail_first_read) {
      w->fail_first_read = 0;
      n = -1;
      errno = EIO;
    }
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return fail(w, "read", errno);
    }
    for (char *p = buf; p < buf + n;) {
      const struct inotify_event *ev = (const struct inotify_event *)p;
      p += sizeof *ev + ev->len;
      const char *kind = kind_of(ev->mask);
      if (!kind) continue;
      post(w, ev->wd, kind, ev->name, ev->len ? strnlen(ev->name, ev->len) : 0);
    }
  }
  return NULL;
}

static void deliver(napi_env env, napi_value callback, void *context, void *data) {
  (void)context;
  event_msg *msg = data;
  if (env && callback) {
    napi_value argv[3], global;
    if (napi_create_int32(env, msg->wd, &argv[0]) == napi_ok &&
        napi_create_string_utf8(env, msg->kind, NAPI_AUTO_LENGTH, &argv[1]) == napi_ok &&
        napi_create_string_utf8(env, msg->name, NAPI_AUTO_LENGTH, &argv[2]) == napi_ok &&
        napi_get_global(env, &global) == napi_ok)
      napi_call_function(env, global, callback, 3, argv, NULL);
  }
  free(msg);
}

static void stop(void *arg) {
  watcher *w = arg;
  if (w->running) {
    uint64_t one = 1;
    ssize_t ignored = write(w->stop_fd, &one, sizeof one);
    (void)ignored;
    pthread_join(w->thread, NULL);
    w->running = 0;
  }
  if (w->inotify_fd >= 0) close(w->inotify_fd);
  if (w->stop_fd >= 0) close(w->stop_fd);
  w->inotify_fd = w->stop_fd = -1;
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  stop(data);
  free(data);
}

static watcher *get(napi_env env) {
  void *w = NULL;
  return napi_get_instance_data(env, &w) == napi_ok ? w : NULL;
}

static napi_value throw_errno(napi_env env, const char *syscall, const char *path) {
  tl_error e;
  tl_error_from_errno(&e, errno);
  return tl_throw(env, &e, syscall, path);
}

static napi_value js_watch_start(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value cb, name;
  if (napi_get_cb_info(env, info, &argc, &cb, NULL, NULL) != napi_ok) return NULL;
  if (get(env)) {
    napi_throw_error(env, "ERR_INVALID_STATE", "watchStart was already called");
    return NULL;
  }
  watcher *w = calloc(1, sizeof *w);
  if (!w) return throw_errno(env, "calloc", NULL);
  const char *fault = getenv("TOOLCHAIN_LOCK_TEST_WATCH_FAULT");
  w->fail_first_read = fault != NULL && strcmp(fault, "read") == 0;
  w->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  w->stop_fd = w->inotify_fd < 0 ? -1 : eventfd(0, EFD_CLOEXEC);
  if (w->inotify_fd < 0 || w->stop_fd < 0) {
    int e = errno;
    stop(w);
    free(w);
    errno = e;
    return throw_errno(env, "inotify_init1", NULL);
  }
  if (napi_create_string_utf8(env, "toolchain-lock watcher", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_threadsafe_function(env, cb, NULL, name, 0, 1, NULL, NULL, NULL, deliver, &w->tsfn) != napi_ok) {
    stop(w);
    free(w);
    return NULL;
  }
  /* Idle holders must not keep the process alive; waiters turn this on (watchKeepAlive). */
  napi_unref_threadsafe_function(env, w->tsfn);
  int r = pthread_create(&w->thread, NULL, run, w);
  if (r != 0) {
    napi_release_threadsafe_function(w->tsfn, napi_tsfn_abort);
    stop(w);
    free(w);
    errno = r;
    return throw_errno(env, "pthread_create", NULL);
  }
  w->running = 1;
  /* Stops and joins the thread when the environment goes away (process exit, worker end). */
  if (napi_set_instance_data(env, w, finalize, NULL) != napi_ok) return NULL;
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

static napi_value js_watch_add(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  char path[4096], what[32];
  size_t len;
  watcher *w = get(env);
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (!w) {
    napi_throw_error(env, "ERR_INVALID_STATE", "call watchStart first");
    return NULL;
  }
  if (argc < 2 || napi_get_value_string_utf8(env, argv[0], path, sizeof path, &len) != napi_ok || len >= sizeof path - 1 ||
      napi_get_value_string_utf8(env, argv[1], what, sizeof what, NULL) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "watchAdd(path, what): two strings");
    return NULL;
  }
  uint32_t mask;
  if (strcmp(what, "entries") == 0)
    mask = ENTRY_MASK | IN_ONLYDIR;
  else if (strcmp(what, "arrivals") == 0)
    mask = ARRIVAL_MASK | IN_ONLYDIR;
  else if (strcmp(what, "changes") == 0)
    mask = CHANGE_MASK | IN_ONLYDIR;
  else if (strcmp(what, "closes") == 0)
    mask = IN_CLOSE_WRITE | IN_CLOSE_NOWRITE | GONE_MASK;
  else if (strcmp(what, "opens-closes") == 0)
    mask = IN_OPEN | IN_CLOSE_WRITE | IN_CLOSE_NOWRITE | GONE_MASK;
  else {
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", "what must be \"entries\", \"arrivals\", \"changes\", \"closes\" or \"opens-closes\"");
    return NULL;
  }
  /* Never follow a link planted in place of a lock file; IN_MASK_CREATE is not used, so adding the
   * same path twice returns the same watch with the new mask (the caller keeps one per path). */
  int wd = inotify_add_watch(w->inotify_fd, path, mask | IN_DONT_FOLLOW);
  if (wd < 0) return throw_errno(env, "inotify_add_watch", path);
  napi_value out;
  if (napi_create_int32(env, wd, &out) != napi_ok) return NULL;
  return out;
}

static napi_value js_watch_remove(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value arg, u;
  int32_t wd;
  watcher *w = get(env);
  if (napi_get_cb_info(env, info, &argc, &arg, NULL, NULL) != napi_ok) return NULL;
  if (!w || argc < 1 || napi_get_value_int32(env, arg, &wd) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "watchRemove(wd) after watchStart");
    return NULL;
  }
  /* EINVAL: the kernel already dropped it (the file went away); nothing to undo. */
  if (inotify_rm_watch(w->inotify_fd, wd) != 0 && errno != EINVAL) return throw_errno(env, "inotify_rm_watch", NULL);
  napi_get_undefined(env, &u);
  return u;
}

static napi_value js_watch_keep_alive(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value arg, u;
  bool on;
  watcher *w = get(env);
  if (napi_get_cb_info(env, info, &argc, &arg, NULL, NULL) != napi_ok) return NULL;
  if (!w || argc < 1 || napi_get_value_bool(env, arg, &on) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "watchKeepAlive(boolean) after watchStart");
    return NULL;
  }
  if ((on ? napi_ref_threadsafe_function : napi_unref_threadsafe_function)(env, w->tsfn) != napi_ok) return NULL;
  napi_get_undefined(env, &u);
  return u;
}

int tl_export_watch(napi_env env, napi_value exports) {
  return tl_export(env, exports, "watchStart", js_watch_start) && tl_export(env, exports, "watchAdd", js_watch_add) &&
         tl_export(env, exports, "watchRemove", js_watch_remove) &&
         tl_export(env, exports, "watchKeepAlive", js_watch_keep_alive);
}
