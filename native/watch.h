/* What the platform watchers (watch_linux.c) share with lock.c. */
#ifndef TL_WATCH_H
#define TL_WATCH_H

#include <node_api.h>

#include "tl.h"

/* Throws a Node-style error for an OS error (lock.c). */
napi_value tl_throw(napi_env env, const tl_error *e, const char *syscall, const char *path);

/* Exports one function; 0 when that failed. */
int tl_export(napi_env env, napi_value exports, const char *name, napi_callback cb);

/* Fills an error from an errno value (lock_unix.c). */
void tl_error_from_errno(tl_error *e, int number);

/* Adds the watch functions where the platform has kernel wake-ups; 0 when that failed. */
int tl_export_watch(napi_env env, napi_value exports);

#endif
