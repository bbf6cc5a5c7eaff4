/* The process table for macOS and Windows (Linux reads /proc from JavaScript):
 *   processList() -> [{ pid, ppid, exe, startMs, uid, user }]
 * exe is null and startMs/uid -1 where the OS hides them (another user's process); user is null
 * where it is not read (Windows). An observation for reports, never used to lock. */
#ifndef TL_PROCTABLE_H
#define TL_PROCTABLE_H

#include <stdint.h>

#include <node_api.h>

/* One process as the OS shows it; exe is UTF-8 or NULL. */
typedef struct {
  int64_t pid, ppid, uid;
  double start_ms;
  const char *exe;
  const char *user;
} tl_process;

/* Builds the JavaScript object of one process (proctable.c). */
napi_value tl_process_value(napi_env env, const tl_process *p);

/* Adds processList where the platform has one; 0 when that failed. */
int tl_export_proctable(napi_env env, napi_value exports);

#endif
