/* Windows: LockFileEx over the whole file range (what Go's lockedfile does), on handles this
 * module opens itself with CreateFileW. Node's descriptors belong to the host's C runtime, which
 * is not ours, so none is ever passed in or out. The locks are mandatory and per handle; a child
 * process does not keep them. */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <stdio.h>

#include "tl.h"

static const char *win_name(DWORD e) {
  switch (e) {
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND: return "ENOENT";
    case ERROR_ACCESS_DENIED: return "EACCES";
    case ERROR_INVALID_HANDLE: return "EBADF";
    case ERROR_TOO_MANY_OPEN_FILES: return "EMFILE";
    case ERROR_WRITE_PROTECT: return "EROFS";
    case ERROR_SHARING_VIOLATION: return "EBUSY";
    case ERROR_LOCK_VIOLATION: return "EWOULDBLOCK";
    case ERROR_NOT_LOCKED: return "ENOLCK";
    case ERROR_INVALID_PARAMETER: return "EINVAL";
    case ERROR_NOT_SUPPORTED: return "ENOTSUP";
    case ERROR_FILENAME_EXCED_RANGE: return "ENAMETOOLONG";
    case ERROR_DIRECTORY: return "ENOTDIR";
    case ERROR_CANT_RESOLVE_FILENAME: return "ELOOP";
    case ERROR_DISK_FULL: return "ENOSPC";
    case ERROR_NOT_ENOUGH_MEMORY:
    case ERROR_OUTOFMEMORY: return "ENOMEM";
    default: return "UNKNOWN";
  }
}

static int fail(tl_error *err, DWORD e) {
  err->code = win_name(e);
  err->number = (long)e;
  DWORD n = FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL, e, 0, err->text,
                           sizeof err->text, NULL);
  while (n > 0 && (err->text[n - 1] == '\n' || err->text[n - 1] == '\r' || err->text[n - 1] == '.')) err->text[--n] = 0;
  if (n == 0) snprintf(err->text, sizeof err->text, "Windows error %lu", (unsigned long)e);
  return -1;
}

int tl_open(const char *path, tl_handle *out, tl_error *err) {
  int wlen = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, NULL, 0);
  if (wlen <= 0) return fail(err, GetLastError());
  WCHAR *wpath = (WCHAR *)HeapAlloc(GetProcessHeap(), 0, (SIZE_T)wlen * sizeof(WCHAR));
  if (!wpath) return fail(err, ERROR_NOT_ENOUGH_MEMORY);
  MultiByteToWideChar(CP_UTF8, 0, path, -1, wpath, wlen);
  SECURITY_ATTRIBUTES sa = {sizeof sa, NULL, FALSE};
  /* FILE_FLAG_OPEN_REPARSE_POINT opens a symbolic link itself instead of its target. */
  HANDLE h = CreateFileW(wpath, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, &sa,
                         OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OPEN_REPARSE_POINT, NULL);
  DWORD e = GetLastError();
  HeapFree(GetProcessHeap(), 0, wpath);
  if (h == INVALID_HANDLE_VALUE) return fail(err, e);
  BY_HANDLE_FILE_INFORMATION info;
  if (!GetFileInformationByHandle(h, &info)) {
    e = GetLastError();
    CloseHandle(h);
    return fail(err, e);
  }
  if (info.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) {
    CloseHandle(h);
    return fail(err, ERROR_CANT_RESOLVE_FILENAME);
  }
  if ((info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) || GetFileType(h) != FILE_TYPE_DISK) {
    CloseHandle(h);
    return tl_not_regular(err);
  }
  *out = (tl_handle)(intptr_t)h;
  return 0;
}

int tl_try_lock(tl_handle h, int exclusive, tl_error *err) {
  OVERLAPPED ov;
  ZeroMemory(&ov, sizeof ov);
  DWORD flags = LOCKFILE_FAIL_IMMEDIATELY | (exclusive ? LOCKFILE_EXCLUSIVE_LOCK : 0);
  if (LockFileEx((HANDLE)(intptr_t)h, flags, 0, MAXDWORD, MAXDWORD, &ov)) return 1;
  DWORD e = GetLastError();
  if (e == ERROR_LOCK_VIOLATION || e == ERROR_IO_PENDING) return 0;
  return fail(err, e);
}

int tl_unlock(tl_handle h, tl_error *err) {
  OVERLAPPED ov;
  ZeroMemory(&ov, sizeof ov);
  if (UnlockFileEx((HANDLE)(intptr_t)h, 0, MAXDWORD, MAXDWORD, &ov)) return 0;
  DWORD e = GetLastError();
  /* Unlocking what is not locked is what flock(LOCK_UN) allows silently. */
  return e == ERROR_NOT_LOCKED ? 0 : fail(err, e);
}

int tl_close(tl_handle h, tl_error *err) {
  return CloseHandle((HANDLE)(intptr_t)h) ? 0 : fail(err, GetLastError());
}

typedef struct {
  void (*fn)(void *);
  void *arg;
} start;

static DWORD WINAPI thread_main(LPVOID p) {
  start s = *(start *)p;
  HeapFree(GetProcessHeap(), 0, p);
  s.fn(s.arg);
  return 0;
}

int tl_run_detached(void (*fn)(void *), void *arg) {
  start *s = (start *)HeapAlloc(GetProcessHeap(), 0, sizeof *s);
  if (!s) return ERROR_NOT_ENOUGH_MEMORY;
  s->fn = fn;
  s->arg = arg;
  HANDLE t = CreateThread(NULL, 0, thread_main, s, 0, NULL);
  if (!t) {
    DWORD e = GetLastError();
    HeapFree(GetProcessHeap(), 0, s);
    return (int)e;
  }
  CloseHandle(t);
  return 0;
}
