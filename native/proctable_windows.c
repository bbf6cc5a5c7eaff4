/* Windows: every process from a Toolhelp snapshot (pid, parent), its executable from
 * QueryFullProcessImageNameW and its start time from GetProcessTimes, both through
 * OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION), which works for most processes of other users
 * too. Owners are not read (uid -1, user null). */
#include <windows.h>
#include <tlhelp32.h>

#include "proctable.h"
#include "watch.h"

/* 100 ns ticks from 1601-01-01 to 1970-01-01. */
#define EPOCH_DIFF_100NS 116444736000000000ULL

static napi_value js_process_list(napi_env env, napi_callback_info info) {
  (void)info;
  HANDLE snap = CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
  napi_value list;
  if (snap == INVALID_HANDLE_VALUE || napi_create_array(env, &list) != napi_ok) {
    if (snap != INVALID_HANDLE_VALUE) CloseHandle(snap);
    napi_throw_error(env, "EPROC", "processList: CreateToolhelp32Snapshot failed");
    return NULL;
  }
  PROCESSENTRY32W entry;
  entry.dwSize = sizeof entry;
  uint32_t out = 0;
  for (BOOL more = Process32FirstW(snap, &entry); more; more = Process32NextW(snap, &entry)) {
    tl_process p = {(int64_t)entry.th32ProcessID, (int64_t)entry.th32ParentProcessID, -1, -1, NULL, NULL};
    char exe[MAX_PATH * 4];
    HANDLE h = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, entry.th32ProcessID);
    if (h) {
      WCHAR wide[MAX_PATH * 2];
      DWORD len = MAX_PATH * 2;
      int n = QueryFullProcessImageNameW(h, 0, wide, &len) ? WideCharToMultiByte(CP_UTF8, 0, wide, (int)len, exe, (int)sizeof exe - 1, NULL, NULL) : 0;
      if (n > 0) {
        exe[n] = 0;
        p.exe = exe;
      }
      FILETIME created, exited, kernel, user;
      if (GetProcessTimes(h, &created, &exited, &kernel, &user)) {
        ULONGLONG t = ((ULONGLONG)created.dwHighDateTime << 32) | created.dwLowDateTime;
        if (t > EPOCH_DIFF_100NS) p.start_ms = (double)(t - EPOCH_DIFF_100NS) / 10000.0;
      }
      CloseHandle(h);
    }
    napi_value v = tl_process_value(env, &p);
    if (!v || napi_set_element(env, list, out++, v) != napi_ok) {
      CloseHandle(snap);
      return NULL;
    }
  }
  CloseHandle(snap);
  return list;
}

int tl_export_proctable(napi_env env, napi_value exports) { return tl_export(env, exports, "processList", js_process_list); }
