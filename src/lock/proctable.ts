// The machine's process table, as far as this OS lets us see it: who runs which program, since
// when, as whom, and which files it maps or has open. For observations only (processes running
// from a toolchain without a lock, who changes a toolchain without one); never a lock decision.
import * as path from 'node:path';
import { thisOs } from './os';

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

/**
 * Every process this OS shows us, read now (Linux: /proc; macOS and Windows: the native module
 * where it has the functions, else an empty list). Reads a few files per process: call it once
 * per report, not per toolchain. Exported for other parts of the tool that need "which processes
 * run which program" (e.g. the descendants of a language server, with their executables).
 */
export function listProcesses(): ProcessInfo[] {
  return thisOs.listProcesses();
}

/** The processes below `pid` (children, grandchildren, …) in `table`, nearest first. */
export function descendantsOf(pid: number, table: readonly ProcessInfo[]): ProcessInfo[] {
  const children = new Map<number, ProcessInfo[]>();
  for (const p of table) {
    if (p.ppid === null) continue;
    const list = children.get(p.ppid) ?? [];
    list.push(p);
    children.set(p.ppid, list);
  }
  const out: ProcessInfo[] = [];
  const queue = [pid];
  const seen = new Set(queue);
  while (queue.length > 0) {
    for (const c of children.get(queue.shift()!) ?? []) {
      if (seen.has(c.pid)) continue;
      seen.add(c.pid);
      out.push(c);
      queue.push(c.pid);
    }
  }
  return out;
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
