// Linux's /proc/PID/stat, parsed in one place for every part that needs a process's parent,
// group, state or start time (identity.ts, proctable.ts, proctable-linux.ts).
import * as fs from 'node:fs';

export interface ProcStat {
  readonly pid: number;
  /** The kernel's short name for it (field 2, /proc/PID/comm: at most 15 characters). */
  readonly name: string;
  /** Field 3: R, S, D, Z (zombie), X (dead), … */
  readonly state: string;
  readonly ppid: number;
  /** Process group: children spawned `detached` lead their own. */
  readonly pgid: number;
  /** Clock ticks after boot (field 22), as a decimal string: with the pid, names one process for good. */
  readonly startTime: string | null;
}

/** One process's stat line; null when it is gone or /proc is absent. */
export function readStat(pid: number): ProcStat | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The name (field 2) is in parentheses and may itself hold spaces and parentheses; fields resume
  // after the last ')'.
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const rest = text
    .slice(close + 2)
    .trim()
    .split(' ');
  // rest[0] is field 3 (state); field N is rest[N - 3].
  const startTime = rest[22 - 3];
  return {
    pid,
    name: text.slice(open + 1, close),
    state: rest[0] ?? '',
    ppid: Number(rest[4 - 3]),
    pgid: Number(rest[5 - 3]),
    startTime: startTime !== undefined && /^\d+$/.test(startTime) ? startTime : null,
  };
}

/** Exited but not yet reaped by its parent (or being reaped): it holds nothing any more. */
export function isZombie(stat: ProcStat): boolean {
  return stat.state === 'Z' || stat.state === 'X';
}
