// macOS and Windows have no /proc: the native module lists processes with their executables
// (macOS: proc_listallpids + proc_pidpath + proc_pidinfo; Windows: a Toolhelp snapshot +
// QueryFullProcessImageNameW + GetProcessTimes). Mapped libraries, open files, current
// directories and environments of other processes are not read there.
import { nativeLock } from './native';
import type { ProcessInfo } from './proctable';

/** One row as native/proctable_*.c returns it. */
interface NativeProcessRow {
  readonly pid: number;
  readonly ppid: number;
  readonly exe: string | null;
  /** Milliseconds since the epoch, or -1 when hidden. */
  readonly startMs: number;
  readonly uid: number;
  readonly user: string | null;
}

interface NativeProcessTable {
  processList?: () => NativeProcessRow[];
}

export function listNativeProcesses(): ProcessInfo[] {
  let list: (() => NativeProcessRow[]) | undefined;
  try {
    list = (nativeLock() as unknown as NativeProcessTable).processList;
  } catch {
    return [];
  }
  if (typeof list !== 'function') return [];
  return list().map((r) => ({
    pid: r.pid,
    ppid: r.ppid > 0 ? r.ppid : null,
    exe: r.exe,
    // The start time in ms tells a reused pid apart as well as Linux's ticks do.
    startTime: r.startMs >= 0 ? String(r.startMs) : null,
    since: r.startMs >= 0 ? new Date(r.startMs).toISOString() : null,
    uid: r.uid >= 0 ? r.uid : null,
    user: r.user,
    // The arguments of another process are not read here; the program stands for them.
    command: r.exe ? [r.exe] : [],
  }));
}
