// The machine's process table, as far as this OS lets us see it. Two views of it:
// - ProcessEntry (Linux only, cheap: /proc/PID/stat and exe): who is below a process, what each of
//   them runs, and whether a process seen once is still that process — enough to find and end
//   another extension's server. Elsewhere `processTableSupported()` is false and lookups are empty.
// - ProcessInfo (every OS the native module or /proc serves): who runs which program, since when,
//   as whom, and which files it maps. For observations only (processes running from a toolchain
//   without a lock, who changes a toolchain without one); never a lock decision.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { thisOs } from './seam';
import { readLink } from './proctable-linux';
import { isZombie, readStat, type ProcStat } from './procstat';

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

/** One process as the OS shows it. Fields this OS (or our permissions) cannot see are null. */
export interface ProcessInfo {
  readonly pid: number;
  readonly ppid: number | null;
  /** The executable's path (Linux: /proc/PID/exe, already canonical; ` (deleted)` removed). */
  readonly exe: string | null;
  /** An identity against pid reuse: clock ticks since boot on Linux, as a decimal string. */
  readonly startTime: string | null;
  /** ISO 8601 time the process started. */
  readonly since: string | null;
  readonly uid: number | null;
  readonly user: string | null;
  /** The program and its arguments (empty when hidden from us). */
  readonly command: readonly string[];
}

export function processTableSupported(): boolean {
  return process.platform === 'linux' && fs.existsSync('/proc/self/stat');
}

function entryOf(stat: ProcStat): ProcessEntry {
  return {
    pid: stat.pid,
    ppid: stat.ppid,
    pgid: stat.pgid,
    startTime: Number(stat.startTime),
    exe: readLink(`/proc/${stat.pid}/exe`),
    name: stat.name,
    zombie: isZombie(stat),
  };
}

/** One process, or null when it is gone (or this is not Linux). */
export function readProcess(pid: number): ProcessEntry | null {
  const stat = processTableSupported() ? readStat(pid) : null;
  return stat ? entryOf(stat) : null;
}

/**
 * The processes below `root` (children, their children, …) in `table`, parents before children.
 * `keep` drops a process and everything below it.
 */
export function descendantsOf<P extends { readonly pid: number; readonly ppid: number | null }>(
  root: number,
  table: readonly P[],
  keep: (p: P) => boolean = () => true,
): P[] {
  const children = new Map<number, P[]>();
  for (const p of table) {
    if (p.ppid === null) continue;
    const list = children.get(p.ppid);
    if (list) list.push(p);
    else children.set(p.ppid, [p]);
  }
  const out: P[] = [];
  const queue = [root];
  const seen = new Set(queue);
  for (let i = 0; i < queue.length; i++) {
    for (const c of children.get(queue[i]!) ?? []) {
      if (seen.has(c.pid) || !keep(c)) continue;
      seen.add(c.pid);
      out.push(c);
      queue.push(c.pid);
    }
  }
  return out;
}

/** The stat line of every process in /proc (Linux only). */
function allStats(): ProcStat[] {
  const stats: ProcStat[] = [];
  for (const name of fs.readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    const stat = readStat(pid);
    if (stat) stats.push(stat);
  }
  return stats;
}

/** Every live process below `root` (children, their children, …), parents before children. */
export function descendants(root: number): ProcessEntry[] {
  if (!processTableSupported()) return [];
  return descendantsOf(root, allStats(), (s) => !isZombie(s)).map(entryOf);
}

/**
 * Whether process group `pgid` has a member that has not exited; null without a process table
 * (then only the OS's own answer, which counts zombies, is known). A group of zombies runs nothing:
 * their parent (a container's init, often) has not reaped them yet, and maybe never will.
 */
export function groupRunning(pgid: number): boolean | null {
  if (!processTableSupported()) return null;
  return allStats().some((s) => s.pgid === pgid && !isZombie(s));
}

/** True while `pid` is still the process that started at `startTime` (and has not exited). */
export function isAlive(pid: number, startTime: number): boolean {
  const stat = readStat(pid);
  return stat !== null && !isZombie(stat) && Number(stat.startTime) === startTime;
}

/**
 * Every process this OS shows us, read now (Linux: /proc; macOS and Windows: the native module
 * where it has the functions, else an empty list). Reads a few files per process: call it once
 * per report, not per toolchain.
 */
export function listProcesses(): ProcessInfo[] {
  return thisOs.listProcesses();
}

/** True when `file` is `root` or inside it (both canonical). */
export function isInside(root: string, file: string): boolean {
  const rel = path.relative(root, file);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * Whether a process runs code from `root`: its executable, or (where the OS lists them: Linux's
 * /proc/PID/maps) a shared library or other mapped file under it.
 */
export function runsFrom(p: ProcessInfo, root: string): boolean {
  if (p.exe !== null && isInside(root, p.exe)) return true;
  return (thisOs.mappedFiles(p.pid) ?? []).some((f) => isInside(root, f));
}
