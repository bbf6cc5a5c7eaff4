// Processes that run from a toolchain without its read lock: what the lock cannot protect, so an
// update must name them (docs/PROTOCOL.md §unlocked). An observation, never a lock.
import * as fs from 'node:fs';
import { selfIdentity, thisOs, runsFrom, type ProcessInfo } from '../lock/os';
import type { Holder } from '../lock';

/** A process running from a toolchain's directory that holds no lock on it (`status --json`: `unlocked`). */
export interface UnlockedProcess {
  readonly pid: number;
  readonly command: readonly string[];
  /** The executable's path; null where the OS hides it (another user's process). */
  readonly exe: string | null;
  readonly since: string | null;
  readonly user: string | null;
}

/** The pids a toolchain's lock holders run as (records' processes and children, kernel holders) on this host. */
export function lockedPids(holders: readonly Holder[]): Set<number> {
  const host = selfIdentity().host;
  const out = new Set<number>();
  for (const h of holders) {
    if (h.host !== host || h.state !== 'held') continue;
    out.add(h.pid);
    for (const c of h.children) out.add(c);
  }
  return out;
}

function statOrNull(file: string): fs.Stats | null {
  try {
    return fs.statSync(file);
  } catch {
    return null;
  }
}

/**
 * Whether a process is covered by a lock on `lockFile`: it or an ancestor is a holder (`locked`),
 * or (where the OS shows descriptors' locks) holds the lock through a descriptor it inherited.
 */
export function lockCoverage(
  lockFile: string,
  locked: ReadonlySet<number>,
  table: readonly ProcessInfo[],
): (p: ProcessInfo) => boolean {
  const byPid = new Map(table.map((p) => [p.pid, p]));
  const lockStat = statOrNull(lockFile);
  const memo = new Map<number, boolean>();
  const holds = (pid: number): boolean =>
    locked.has(pid) || (lockStat !== null && thisOs.holdsLockOn(pid, lockStat) === true);
  return (p) => {
    const chain: number[] = [];
    let covered = false;
    for (
      let q: ProcessInfo | undefined = p;
      q && !chain.includes(q.pid);
      q = q.ppid === null ? undefined : byPid.get(q.ppid)
    ) {
      const known = memo.get(q.pid);
      if (known !== undefined) {
        covered = known;
        break;
      }
      chain.push(q.pid);
      if (holds(q.pid)) {
        covered = true;
        break;
      }
    }
    for (const pid of chain) memo.set(pid, covered);
    return covered;
  };
}

/** The processes of `table` that run from `root` (a canonical toolchain directory) not covered by its lock. */
export function findUnlocked(
  root: string,
  lockFile: string,
  locked: ReadonlySet<number>,
  table: readonly ProcessInfo[],
): UnlockedProcess[] {
  const covered = lockCoverage(lockFile, locked, table);
  return table
    .filter((p) => p.pid !== process.pid && runsFrom(p, root) && !covered(p))
    .map((p) => ({ pid: p.pid, command: p.command, exe: p.exe, since: p.since, user: p.user }))
    .sort((a, b) => a.pid - b.pid);
}

/** One line naming an unlocked process for people: program, pid, since, user. */
export function describeUnlocked(p: UnlockedProcess): string {
  const program = p.exe ?? p.command[0] ?? '(unknown program)';
  const parts = [`pid ${p.pid}`];
  if (p.since) parts.push(`since ${p.since}`);
  if (p.user) parts.push(`user ${p.user}`);
  return `${program} (${parts.join(', ')})`;
}
