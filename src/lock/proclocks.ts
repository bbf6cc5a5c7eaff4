import * as fs from 'node:fs';

/** One kernel lock entry from /proc/locks. */
export interface KernelLock {
  readonly mode: 'read' | 'write';
  readonly pid: number;
  /** True for a process blocked in flock() waiting for this lock. */
  readonly blocked: boolean;
}

/** Linux's dev_t split as /proc/locks prints it (new_encode_dev). */
function devString(dev: number): string {
  const d = BigInt(dev);
  const major = Number(((d >> 8n) & 0xfffn) | ((d >> 32n) & ~0xfffn));
  const minor = Number((d & 0xffn) | ((d >> 12n) & 0xfff00n));
  return `${major.toString(16).padStart(2, '0')}:${minor.toString(16).padStart(2, '0')}:`;
}

/** A snapshot of the kernel's flock table, to look files up in. */
export interface KernelLockTable {
  locksOf(stat: { dev: number; ino: number }): KernelLock[];
}

/**
 * Reads Linux's /proc/locks once; null where it cannot be read. Expensive: the kernel takes a
 * system-wide write lock (an RCU grace period, milliseconds, stalling every flock() meanwhile),
 * so callers read it for reporting only, never on an acquire or release path.
 */
export function readProcLocks(): KernelLockTable | null {
  let table: string;
  try {
    table = fs.readFileSync('/proc/locks', 'utf8');
  } catch {
    return null;
  }
  const byFile = new Map<string, KernelLock[]>();
  for (const line of table.split('\n')) {
    // "1: FLOCK  ADVISORY  WRITE 1234 fd:01:5678 0 EOF" or "1: -> FLOCK ..." for a blocked waiter.
    const m = /^\d+:\s+(->\s+)?FLOCK\s+\S+\s+(READ|WRITE)\s+(\d+)\s+([0-9a-f]+:[0-9a-f]+:\d+)\s/.exec(line);
    if (!m) continue;
    const list = byFile.get(m[4]!) ?? [];
    list.push({ blocked: m[1] !== undefined, mode: m[2] === 'READ' ? 'read' : 'write', pid: Number(m[3]) });
    byFile.set(m[4]!, list);
  }
  return { locksOf: (st) => byFile.get(`${devString(st.dev)}${st.ino}`) ?? [] };
}

/** The command line of a local process, or null when it cannot be read. */
export function processCommandLine(pid: number): string[] | null {
  try {
    const raw = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    const args = raw.split('\0');
    if (args[args.length - 1] === '') args.pop();
    return args.length > 0 ? args : null;
  } catch {
    return null;
  }
}
