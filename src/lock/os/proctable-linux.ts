// Linux's process table: /proc/PID/{stat,status,exe,cmdline,maps,fd,fdinfo,environ}. Other
// users' exe, maps, fds and environment are hidden unless we are root; such fields stay null.
import * as fs from 'node:fs';
import { processCommandLine } from './proclocks';
import { readStat } from './procstat';
import type { ProcessInfo } from './proctable';

/** USER_HZ: /proc reports times in these ticks, 100 on every architecture Linux exposes it for. */
const TICKS_PER_SECOND = 100;

function bootTimeSeconds(): number | null {
  try {
    const m = /^btime (\d+)$/m.exec(fs.readFileSync('/proc/stat', 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

let users: Map<number, string> | undefined;

function userOf(uid: number): string | null {
  if (!users) {
    users = new Map();
    try {
      for (const line of fs.readFileSync('/etc/passwd', 'utf8').split('\n')) {
        const [name, , id] = line.split(':');
        if (name && id && /^\d+$/.test(id) && !users.has(Number(id))) users.set(Number(id), name);
      }
    } catch {
      // No passwd file (a minimal container): uids stay numbers.
    }
  }
  return users.get(uid) ?? String(uid);
}

/** A /proc link's target; a file replaced on disk (an update) reads as "/path (deleted)": it is still that file. */
export function readLink(file: string): string | null {
  try {
    return fs.readlinkSync(file).replace(/ \(deleted\)$/, '');
  } catch {
    return null;
  }
}

function readInfo(pid: number, btime: number | null): ProcessInfo | null {
  const stat = readStat(pid);
  let status: string;
  try {
    status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null; // exited meanwhile
  }
  if (stat === null) return null;
  const uidMatch = /^Uid:\s+(\d+)/m.exec(status);
  const uid = uidMatch ? Number(uidMatch[1]) : null;
  const ticks = stat.startTime === null ? null : Number(stat.startTime);
  return {
    pid,
    ppid: Number.isInteger(stat.ppid) && stat.ppid > 0 ? stat.ppid : null,
    exe: readLink(`/proc/${pid}/exe`),
    startTime: stat.startTime,
    since:
      btime !== null && ticks !== null
        ? new Date((btime + ticks / TICKS_PER_SECOND) * 1000).toISOString()
        : null,
    uid,
    user: uid === null ? null : userOf(uid),
    command: processCommandLine(pid) ?? [],
  };
}

export function listLinuxProcesses(): ProcessInfo[] {
  let names: string[];
  try {
    names = fs.readdirSync('/proc');
  } catch {
    return [];
  }
  const btime = bootTimeSeconds();
  const out: ProcessInfo[] = [];
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    const p = readInfo(Number(name), btime);
    if (p) out.push(p);
  }
  return out;
}

/** Files mapped into a process (shared libraries, mapped data); null when hidden from us. */
export function linuxMappedFiles(pid: number): string[] | null {
  let maps: string;
  try {
    maps = fs.readFileSync(`/proc/${pid}/maps`, 'utf8');
  } catch {
    return null;
  }
  const files = new Set<string>();
  for (const line of maps.split('\n')) {
    // "addr perms offset dev inode   /path/of/file" — the path may hold spaces.
    const m = /^\S+ \S+ \S+ \S+ \d+\s+(\/.*)$/.exec(line);
    if (m) files.add(m[1]!.replace(/ \(deleted\)$/, ''));
  }
  return [...files];
}

/** The files a process has open, by descriptor; null when hidden from us. */
export function linuxOpenFiles(pid: number): { fd: string; file: string }[] | null {
  let fds: string[];
  try {
    fds = fs.readdirSync(`/proc/${pid}/fd`);
  } catch {
    return null;
  }
  const out: { fd: string; file: string }[] = [];
  for (const fd of fds) {
    const file = readLink(`/proc/${pid}/fd/${fd}`);
    if (file?.startsWith('/')) out.push({ fd, file });
  }
  return out;
}

/** The "lock:" lines of a descriptor's fdinfo: the flock locks held through that open file. */
export function linuxFdLocks(pid: number, fd: string): string[] {
  try {
    return fs
      .readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('lock:'));
  } catch {
    return [];
  }
}

/** A process's current directory; null when hidden from us. */
export function linuxCwd(pid: number): string | null {
  return readLink(`/proc/${pid}/cwd`);
}

/** One variable of a process's environment (as it started); null when unset or hidden from us. */
export function linuxEnvironment(pid: number, name: string): string | null {
  try {
    const prefix = `${name}=`;
    const entry = fs
      .readFileSync(`/proc/${pid}/environ`, 'utf8')
      .split('\0')
      .find((e) => e.startsWith(prefix));
    return entry === undefined ? null : entry.slice(prefix.length);
  } catch {
    return null;
  }
}
