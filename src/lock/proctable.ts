// The process table, as far as finding and ending another extension's server needs it: who is
// below a process, what each of them runs, and whether a process seen once is still that process.
// Linux only (/proc); elsewhere `processTableSupported()` is false and every lookup comes back empty.
import * as fs from 'node:fs';

export interface ProcessEntry {
  readonly pid: number;
  readonly ppid: number;
  /** Process group: children spawned `detached` lead their own. */
  readonly pgid: number;
  /** Clock ticks after boot (field 22 of /proc/PID/stat): with the pid, names one process for good. */
  readonly startTime: number;
  /** The program it runs (/proc/PID/exe), or null when it cannot be read (another user's, a kernel thread). */
  readonly exe: string | null;
  /** The kernel's short name for it (/proc/PID/comm, at most 15 characters). */
  readonly name: string;
  /** Exited but not yet reaped by its parent: it holds nothing any more. */
  readonly zombie: boolean;
}

const procRoot = '/proc';

export function processTableSupported(): boolean {
  return process.platform === 'linux' && fs.existsSync(`${procRoot}/self/stat`);
}

interface Stat {
  readonly pid: number;
  readonly ppid: number;
  readonly pgid: number;
  readonly startTime: number;
  readonly name: string;
  readonly zombie: boolean;
}

/** Parses /proc/PID/stat; the name is in parentheses and may itself contain spaces and parentheses. */
function readStat(pid: number): Stat | null {
  let text: string;
  try {
    text = fs.readFileSync(`${procRoot}/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const rest = text.slice(close + 2).split(' ');
  // rest[0] is field 3 (state); field N is rest[N - 3].
  const startTime = Number(rest[19]);
  return { pid, ppid: Number(rest[1]), pgid: Number(rest[2]), startTime, name: text.slice(open + 1, close), zombie: rest[0] === 'Z' || rest[0] === 'X' };
}

function readExe(pid: number): string | null {
  try {
    // A binary replaced on disk (an update) reads as "/path (deleted)": it is still that program.
    return fs.readlinkSync(`${procRoot}/${pid}/exe`).replace(/ \(deleted\)$/, '');
  } catch {
    return null;
  }
}

/** One process, or null when it is gone (or this is not Linux). */
export function readProcess(pid: number): ProcessEntry | null {
  const stat = processTableSupported() ? readStat(pid) : null;
  return stat ? { ...stat, exe: readExe(pid) } : null;
}

/** Every live process below `root` (children, their children, …), parents before children. */
export function descendants(root: number): ProcessEntry[] {
  if (!processTableSupported()) return [];
  const children = new Map<number, Stat[]>();
  for (const name of fs.readdirSync(procRoot)) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    const stat = readStat(pid);
    if (!stat) continue;
    const list = children.get(stat.ppid);
    if (list) list.push(stat);
    else children.set(stat.ppid, [stat]);
  }
  const out: ProcessEntry[] = [];
  const queue = [root];
  for (let i = 0; i < queue.length; i++) {
    for (const stat of children.get(queue[i]!) ?? []) {
      if (stat.zombie) continue;
      out.push({ ...stat, exe: readExe(stat.pid) });
      queue.push(stat.pid);
    }
  }
  return out;
}

/** True while `pid` is still the process that started at `startTime` (and has not exited). */
export function isAlive(pid: number, startTime: number): boolean {
  const stat = readStat(pid);
  return stat !== null && !stat.zombie && stat.startTime === startTime;
}
