import * as fs from 'node:fs';
import * as os from 'node:os';
import { isZombie, readStat } from './procstat';

/** Who a process is, in terms that survive PID reuse and PID namespaces. */
export interface ProcessIdentity {
  readonly pid: number;
  /** Start time in clock ticks since boot (/proc/<pid>/stat field 22), as a decimal string. */
  readonly startTime: string | null;
  readonly host: string;
  readonly bootId: string | null;
  /** Inode number of /proc/self/ns/pid: processes with the same value see the same PIDs. */
  readonly pidNamespace: string | null;
}

/** This process's identity plus facts needed to judge other processes. */
export interface SelfIdentity extends ProcessIdentity {
  readonly user: string;
  readonly uid: number | null;
  /** False when /proc belongs to another PID namespace: then no /proc lookup proves anything. */
  readonly procConsistent: boolean;
}

/** The processes a lock record names (docs/PROTOCOL.md §4.1), as far as judging their liveness needs. */
export interface RecordedProcesses extends ProcessIdentity {
  /** ISO 8601 time the party started waiting or holding. */
  readonly since: string;
  /** Processes that inherited the lock and keep it held after this one exits. */
  readonly children: readonly { readonly pid: number; readonly startTime: string | null }[];
}

function readTrimmed(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8').trim() || null;
  } catch {
    return null;
  }
}

/** Reads a process's start time from /proc; null when it does not exist or /proc is absent. */
export function processStartTime(pid: number): string | null {
  return readStat(pid)?.startTime ?? null;
}

/**
 * True when the process has exited but its parent has not reaped it yet (a zombie): it holds no
 * lock and no file any more. Orphans stay zombies for good under an init that never reaps (a
 * container without one). A zombie leader whose other threads still run has not exited.
 */
export function processExited(pid: number): boolean {
  const stat = readStat(pid);
  if (stat === null || !isZombie(stat)) return false;
  try {
    return fs.readdirSync(`/proc/${pid}/task`).every((tid) => tid === String(pid));
  } catch {
    // Gone meanwhile: reaped.
    return true;
  }
}

/** The inode of a PID namespace link such as `pid:[4026531836]`. */
function pidNamespaceOf(link: string): string | null {
  try {
    const m = /\[(\d+)\]/.exec(fs.readlinkSync(link));
    return m ? m[1]! : null;
  } catch {
    return null;
  }
}

function userName(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env.USER ?? process.env.USERNAME ?? 'unknown';
  }
}

let cached: SelfIdentity | undefined;

/** The identity of this process, computed once. */
export function selfIdentity(): SelfIdentity {
  if (cached) return cached;
  let procConsistent = false;
  try {
    procConsistent = fs.readlinkSync('/proc/self') === String(process.pid);
  } catch {
    procConsistent = false;
  }
  cached = {
    pid: process.pid,
    startTime: procConsistent ? processStartTime(process.pid) : null,
    host: os.hostname(),
    bootId: readTrimmed('/proc/sys/kernel/random/boot_id'),
    pidNamespace: procConsistent ? pidNamespaceOf('/proc/self/ns/pid') : null,
    user: userName(),
    uid: typeof process.getuid === 'function' ? process.getuid() : null,
    procConsistent,
  };
  return cached;
}

/** The identity of another process of ours (e.g. a child that inherits a lock). */
export function childIdentity(pid: number): { pid: number; startTime: string | null } {
  return { pid, startTime: selfIdentity().procConsistent ? processStartTime(pid) : null };
}
