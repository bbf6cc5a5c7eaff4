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

/** How /proc/locks and /proc/PID/fdinfo name a file: `MAJ:MIN:INODE`. */
function fileId(st: { dev: number; ino: number }): string {
  return `${devString(st.dev)}${st.ino}`;
}

/**
 * The processes that hold a flock /proc/locks lists under `pid`, through a descriptor they
 * inherited: a `flock(1)` (or a wrapper) SIGKILLed while its command runs stays in /proc/locks,
 * and the lock lives on in its child's descriptor, which /proc/CHILD/fdinfo/FD shows with a
 * `lock:` line. Only processes whose /proc we may read (our own) are found. It reads every
 * process's descriptors: for a pid that is gone only, never on a lock path.
 */
export function lockHeirs(pid: number, st: { dev: number; ino: number }): number[] {
  const id = fileId(st);
  const heirs: number[] = [];
  let pids: string[];
  try {
    pids = fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n));
  } catch {
    return heirs;
  }
  for (const p of pids) {
    let fds: string[];
    try {
      fds = fs.readdirSync(`/proc/${p}/fdinfo`);
    } catch {
      continue;
    }
    const holds = fds.some((fd) => {
      let text: string;
      try {
        text = fs.readFileSync(`/proc/${p}/fdinfo/${fd}`, 'utf8');
      } catch {
        return false;
      }
      // "lock:\t1: FLOCK  ADVISORY  READ 1234 08:02:5678 0 EOF"
      return text.split('\n').some((line) => {
        const m = /^lock:\s+\d+:\s+FLOCK\s+\S+\s+(?:READ|WRITE)\s+(\d+)\s+(\S+)\s/.exec(line);
        return m !== null && Number(m[1]) === pid && m[2] === id;
      });
    });
    if (holds) heirs.push(Number(p));
  }
  return heirs;
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
    const m =
      /^\d+:\s+(->\s+)?FLOCK\s+\S+\s+(READ|WRITE)\s+(\d+)\s+([0-9a-f]+:[0-9a-f]+:\d+)\s/.exec(line);
    if (!m) continue;
    const list = byFile.get(m[4]!) ?? [];
    list.push({
      blocked: m[1] !== undefined,
      mode: m[2] === 'READ' ? 'read' : 'write',
      pid: Number(m[3]),
    });
    byFile.set(m[4]!, list);
  }
  return { locksOf: (st) => byFile.get(fileId(st)) ?? [] };
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
