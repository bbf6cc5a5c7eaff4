/* The Node-API face of the lock module: argument checks, errors as Node-style Error objects
 * (code, errno, syscall, path), and the exported functions. Everything OS-specific is behind tl.h.
 *
 *   open(path) -> handle         lock file opened without following links, regular files only
 *   tryLock(handle, exclusive)   -> true taken / false held by someone else (never blocks)
 *   tryLockAsync(handle, exclusive, cb(err, taken))   the same, on a thread of our own
 *   unlock(handle), close(handle)
 *   watchStart, watchAdd, watchRemove, watchKeepAlive   Linux only: see watch_linux.c
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <node_api.h>

#include "tl.h"
#include "proctable.h"
#include "watch.h"

#ifdef _WIN32
int tl_resolve_napi(void);
#endif

#define CHECK(call)                          \
  do {                                       \
    if ((call) != napi_ok) return NULL;      \
  } while (0)

int tl_not_regular(tl_error *err) {
  err->code = "EFTYPE";
  err->number = 0;
  snprintf(err->text, sizeof err->text, "not a regular file");
  return -1;
}

napi_value tl_throw(napi_env env, const tl_error *e, const char *syscall, const char *path) {
  char msg[1200];
  if (path)
    snprintf(msg, sizeof msg, "%s: %s, %s '%s'", e->code, e->text, syscall, path);
  else
    snprintf(msg, sizeof msg, "%s: %s, %s", e->code, e->text, syscall);
  napi_value code, text, error, value;
  CHECK(napi_create_string_utf8(env, e->code, NAPI_AUTO_LENGTH, &code));
  CHECK(napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &text));
  CHECK(napi_create_error(env, code, text, &error));
  CHECK(napi_create_int64(env, e->number, &value));
  CHECK(napi_set_named_property(env, error, "errno", value));
  CHECK(napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &value));
  CHECK(napi_set_named_property(env, error, "syscall", value));
  if (path) {
    CHECK(napi_create_string_utf8(env, path, NAPI_AUTO_LENGTH, &value));
    CHECK(napi_set_named_property(env, error, "path", value));
  }
  napi_throw(env, error);
  return NULL;
}

static int get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return 0;
  if (argc < want) {
    napi_throw_type_error(env, "ERR_MISSING_ARGS", "missing arguments");
    return 0;
  }
  return 1;
}

static int get_handle(napi_env env, napi_value v, tl_handle *out) {
  napi_valuetype t;
  int64_t h;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_number || napi_get_value_int64(env, v, &h) != napi_ok || h < 0) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "the handle must be a number returned by open()");
    return 0;
  }
  *out = h;
  return 1;
}

static napi_value undefined(napi_env env) {
  napi_value u;
  CHECK(napi_get_undefined(env, &u));
  return u;
}

static napi_value js_open(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!get_args(env, info, 1, argv)) return NULL;
  char path[4096];
  size_t len;
  napi_valuetype t;
  if (napi_typeof(env, argv[0], &t) != napi_ok || t != napi_string ||
      napi_get_value_string_utf8(env, argv[0], path, sizeof path, &len) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "the path must be a string");
    return NULL;
  }
  if (len >= sizeof path - 1 || strlen(path) != len) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", "the path is too long or holds a NUL character");
    return NULL;
  }
  tl_handle h;
  tl_error e;
  if (tl_open(path, &h, &e) != 0) return tl_throw(env, &e, "open", path);
  napi_value out;
  CHECK(napi_create_int64(env, h, &out));
  return out;
}

static napi_value js_try_lock(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  tl_handle h;
  bool exclusive;
  if (!get_args(env, info, 2, argv) || !get_handle(env, argv[0], &h)) return NULL;
  if (napi_get_value_bool(env, argv[1], &exclusive) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "exclusive must be a boolean");
    return NULL;
  }
  tl_error e;
  int r = tl_try_lock(h, exclusive, &e);
  if (r < 0) return tl_throw(env, &e, "flock", NULL);
  napi_value out;
  CHECK(napi_get_boolean(env, r == 1, &out));
  return out;
}

static napi_value js_unlock(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  tl_handle h;
  if (!get_args(env, info, 1, argv) || !get_handle(env, argv[0], &h)) return NULL;
  tl_error e;
  if (tl_unlock(h, &e) != 0) return tl_throw(env, &e, "unlock", NULL);
  return undefined(env);
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  tl_handle h;
  if (!get_args(env, info, 1, argv) || !get_handle(env, argv[0], &h)) return NULL;
  tl_error e;
  if (tl_close(h, &e) != 0) return tl_throw(env, &e, "close", NULL);
  return undefined(env);
}

/* tryLockAsync: the same try on a thread of our own, for network file systems, where the kernel
 * can block in a non-blocking flock while the server's lock service does not answer. The caller
 * may give up waiting; it keeps the handle open until the callback comes (so a late lock never
 * lands on a reused descriptor) and the callback keeps nothing alive (the thread-safe function is
 * unreferenced: the caller's own timer is what keeps the process waiting). */
typedef struct {
  tl_handle handle;
  int exclusive;
  int result;
  tl_error error;
  napi_threadsafe_function tsfn;
} lock_job;

static void run_job(void *p) {
  lock_job *job = p;
  job->result = tl_try_lock(job->handle, job->exclusive, &job->error);
  napi_threadsafe_function tsfn = job->tsfn;
  if (napi_call_threadsafe_function(tsfn, job, napi_tsfn_blocking) != napi_ok) free(job);
  napi_release_threadsafe_function(tsfn, napi_tsfn_release);
}

static void deliver_job(napi_env env, napi_value callback, void *context, void *data) {
  (void)context;
  lock_job *job = data;
  if (env && callback) {
    napi_value argv[2], global;
    if (job->result < 0) {
      /* tl_throw raises the error as pending; take it back to pass it to the callback. */
      tl_throw(env, &job->error, "flock", NULL);
      napi_get_and_clear_last_exception(env, &argv[0]);
      napi_get_undefined(env, &argv[1]);
    } else {
      napi_get_null(env, &argv[0]);
      napi_get_boolean(env, job->result == 1, &argv[1]);
    }
    if (napi_get_global(env, &global) == napi_ok) napi_call_function(env, global, callback, 2, argv, NULL);
  }
  free(job);
}

static napi_value js_try_lock_async(napi_env env, napi_callback_info info) {
  napi_value argv[3], name;
  tl_handle h;
  bool exclusive;
  if (!get_args(env, info, 3, argv) || !get_handle(env, argv[0], &h)) return NULL;
  if (napi_get_value_bool(env, argv[1], &exclusive) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "exclusive must be a boolean");
    return NULL;
  }
  lock_job *job = calloc(1, sizeof *job);
  if (!job) {
    napi_throw_error(env, "ENOMEM", "out of memory");
    return NULL;
  }
  job->handle = h;
  job->exclusive = exclusive;
  if (napi_create_string_utf8(env, "toolchain-lock try", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_threadsafe_function(env, argv[2], NULL, name, 0, 1, NULL, NULL, NULL, deliver_job, &job->tsfn) != napi_ok) {
    free(job);
    return NULL;
  }
  napi_unref_threadsafe_function(env, job->tsfn);
  int r = tl_run_detached(run_job, job);
  if (r != 0) {
    napi_release_threadsafe_function(job->tsfn, napi_tsfn_abort);
    free(job);
    napi_throw_error(env, "ERR_THREAD", "could not start a thread for the lock call");
    return NULL;
  }
  return undefined(env);
}

int tl_export(napi_env env, napi_value exports, const char *name, napi_callback cb) {
  napi_value fn;
  return napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, NULL, &fn) == napi_ok &&
         napi_set_named_property(env, exports, name, fn) == napi_ok;
}

NAPI_MODULE_INIT() {
#ifdef _WIN32
  if (!tl_resolve_napi()) return NULL;
#endif
  if (!tl_export(env, exports, "open", js_open) || !tl_export(env, exports, "tryLock", js_try_lock) ||
      !tl_export(env, exports, "unlock", js_unlock) || !tl_export(env, exports, "close", js_close) ||
      !tl_export(env, exports, "tryLockAsync", js_try_lock_async))
    return NULL;
#ifdef __linux__
  if (!tl_export_watch(env, exports)) return NULL;
#endif
#if defined(__APPLE__) || defined(_WIN32)
  if (!tl_export_proctable(env, exports)) return NULL;
#endif
  return exports;
}
