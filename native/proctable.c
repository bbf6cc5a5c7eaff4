/* The JavaScript side of processList shared by proctable_darwin.c and proctable_windows.c. */
#include "proctable.h"

static int set(napi_env env, napi_value obj, const char *name, napi_value v) { return v && napi_set_named_property(env, obj, name, v) == napi_ok; }

static napi_value int_value(napi_env env, int64_t n) {
  napi_value v;
  return napi_create_int64(env, n, &v) == napi_ok ? v : NULL;
}

static napi_value text_or_null(napi_env env, const char *s) {
  napi_value v;
  if (!s) return napi_get_null(env, &v) == napi_ok ? v : NULL;
  return napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &v) == napi_ok ? v : NULL;
}

napi_value tl_process_value(napi_env env, const tl_process *p) {
  napi_value obj, start;
  if (napi_create_object(env, &obj) != napi_ok || napi_create_double(env, p->start_ms, &start) != napi_ok) return NULL;
  if (!set(env, obj, "pid", int_value(env, p->pid)) || !set(env, obj, "ppid", int_value(env, p->ppid)) || !set(env, obj, "exe", text_or_null(env, p->exe)) ||
      !set(env, obj, "startMs", start) || !set(env, obj, "uid", int_value(env, p->uid)) || !set(env, obj, "user", text_or_null(env, p->user)))
    return NULL;
  return obj;
}
