/* Windows: the Node-API functions are resolved at load time from the host executable, whatever
 * it is called (node.exe, Code.exe, electron.exe), instead of being imported from "node.exe" by
 * name, which fails to load in VS Code. lock.c is compiled with NAPI_EXTERN=__declspec(dllimport),
 * so every call goes through a pointer named __imp_<function>; this file defines those pointers
 * and fills them. It deliberately does not include node_api.h (the pointer definitions would
 * clash with its dllimport declarations). */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>

#include "napi_functions.h"

#define TL_DEFINE(name) void *__imp_##name;
TL_NAPI_FUNCTIONS(TL_DEFINE)
#undef TL_DEFINE

int tl_resolve_napi(void) {
  HMODULE host = GetModuleHandleW(NULL);
  if (!host) return 0;
#define TL_RESOLVE(name)                                  \
  __imp_##name = (void *)GetProcAddress(host, #name);     \
  if (!__imp_##name) return 0;
  TL_NAPI_FUNCTIONS(TL_RESOLVE)
#undef TL_RESOLVE
  return 1;
}
