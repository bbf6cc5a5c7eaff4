/* macOS: every pid from proc_listallpids, its executable from proc_pidpath, parent, uid and start
 * time from proc_pidinfo(PROC_PIDTBSDINFO), the user name from getpwuid_r. Processes of other users
 * show pid, parent, uid and start, but no path unless we are root. */
#include <libproc.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/proc_info.h>

#include "proctable.h"
#include "watch.h"

static napi_value js_process_list(napi_env env, napi_callback_info info) {
  (void)info;
  int n = proc_listallpids(NULL, 0);
  if (n <= 0) n = 1024;
  n += 64; /* processes started between the two calls */
  pid_t *pids = calloc((size_t)n, sizeof *pids);
  if (!pids) {
    napi_throw_error(env, "ENOMEM", "processList: out of memory");
    return NULL;
  }
  int count = proc_listallpids(pids, n * (int)sizeof *pids);
  napi_value list;
  if (count < 0 || napi_create_array(env, &list) != napi_ok) {
    free(pids);
    napi_throw_error(env, "EPROC", "processList: proc_listallpids failed");
    return NULL;
  }
  uint32_t out = 0;
  for (int i = 0; i < count; i++) {
    if (pids[i] <= 0) continue;
    struct proc_bsdinfo bsd;
    char path[PROC_PIDPATHINFO_MAXSIZE];
    char pwbuf[1024];
    struct passwd pw, *found = NULL;
    tl_process p = {pids[i], -1, -1, -1, NULL, NULL};
    if (proc_pidinfo(pids[i], PROC_PIDTBSDINFO, 0, &bsd, sizeof bsd) == (int)sizeof bsd) {
      p.ppid = bsd.pbi_ppid;
      p.uid = bsd.pbi_uid;
      p.start_ms = (double)bsd.pbi_start_tvsec * 1000.0 + (double)bsd.pbi_start_tvusec / 1000.0;
      if (getpwuid_r(bsd.pbi_uid, &pw, pwbuf, sizeof pwbuf, &found) == 0 && found) p.user = found->pw_name;
    }
    if (proc_pidpath(pids[i], path, sizeof path) > 0) p.exe = path;
    napi_value v = tl_process_value(env, &p);
    if (!v || napi_set_element(env, list, out++, v) != napi_ok) {
      free(pids);
      return NULL;
    }
  }
  free(pids);
  return list;
}

int tl_export_proctable(napi_env env, napi_value exports) { return tl_export(env, exports, "processList", js_process_list); }
