// Linux: flock locks, /proc for process identity and the kernel's lock table, statfs for
// network file systems.
import * as fs from 'node:fs';
import * as os from 'node:os';
import { processExited, processStartTime } from './identity';
import type { OsSeam } from './seam';
import { posixCacheDir, refuseForeignPosixDir } from './posix';
import { readProcLocks } from './proclocks';
import {
  linuxCwd,
  linuxEnvironment,
  linuxFdLocks,
  linuxMappedFiles,
  linuxOpenFiles,
  listLinuxProcesses,
} from './proctable-linux';

// statfs(2) f_type magic numbers of file systems whose locks or change events cross machines
// (linux/magic.h). inotify never sees another host's changes on these.
const NETWORK_FS: ReadonlyMap<number, string> = new Map([
  [0x6969, 'NFS'],
  [0x517b, 'SMB'],
  [0xfe534d42, 'SMB2'],
  [0xff534d42, 'CIFS'],
  [0x65735546, 'FUSE'],
  [0x00c36400, 'Ceph'],
  [0x5346414f, 'AFS'],
  [0x01021997, '9P'],
  [0x01161970, 'GFS2'],
  [0x7461636f, 'OCFS2'],
  [0x0bd00bd0, 'Lustre'],
  [0x73757245, 'Coda'],
  [0x564c, 'NCP'],
]);

type ProcessFate = 'alive' | 'gone' | 'unknown';

/** When this kernel booted (ms since the epoch), a little early to allow for clock steps. */
function bootTime(): number {
  return Date.now() - os.uptime() * 1000 - 60_000;
}

function fate(pid: number, startTime: string | null): ProcessFate {
  if (!fs.existsSync(`/proc/${pid}`)) return 'gone';
  const now = processStartTime(pid);
  if (now === null) return fs.existsSync(`/proc/${pid}`) ? 'unknown' : 'gone';
  if (startTime === null) return 'unknown';
  // Same pid, different start time: the pid was reused by an unrelated process.
  if (now !== startTime) return 'gone';
  // Exited and not reaped: everything it held is released, whoever reaps it and whenever.
  return processExited(pid) ? 'gone' : 'alive';
}

export const linuxSeam: OsSeam = {
  defaultLockDir: (_env, home) => posixCacheDir(home),
  refuseForeignDir: refuseForeignPosixDir,
  networkFileSystem(dir) {
    try {
      return NETWORK_FS.get(Number(fs.statfsSync(dir).type) >>> 0) ?? null;
    } catch {
      return null;
    }
  },
  liveness(record, self) {
    // Written on this host before its kernel booted: no process of that boot is alive. (A record
    // of another machine that merely shares the host name was written after our boot.)
    if (
      record.host === self.host &&
      record.bootId !== null &&
      self.bootId !== null &&
      record.bootId !== self.bootId &&
      Date.parse(record.since) < bootTime()
    ) {
      return 'dead';
    }
    // A holder we cannot see through the same /proc (other host, boot or PID namespace, or a
    // /proc mounted for another namespace): its pid means nothing here, so say nothing.
    const sameView =
      record.host === self.host &&
      self.procConsistent &&
      self.bootId !== null &&
      record.bootId === self.bootId &&
      self.pidNamespace !== null &&
      record.pidNamespace === self.pidNamespace;
    if (!sameView) return 'unknown';
    const fates = [
      fate(record.pid, record.startTime),
      ...record.children.map((c) => fate(c.pid, c.startTime)),
    ];
    if (fates.includes('alive')) return 'alive';
    if (fates.every((f) => f === 'gone')) return 'dead';
    return 'unknown';
  },
  readKernelLockTable: readProcLocks,
  childrenKeepLocks: true,
  listProcesses: listLinuxProcesses,
  mappedFiles: linuxMappedFiles,
  openFiles: (pid) => linuxOpenFiles(pid)?.map((f) => f.file) ?? null,
  holdsLockOn(pid, file) {
    const fds = linuxOpenFiles(pid);
    if (fds === null) return null;
    for (const { fd } of fds) {
      let st: fs.Stats;
      try {
        st = fs.statSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      // fdinfo lists the flock locks of that open file: a child that inherited it holds them too.
      if (
        st.dev === file.dev &&
        st.ino === file.ino &&
        linuxFdLocks(pid, fd).some((l) => /\bFLOCK\b/.test(l))
      )
        return true;
    }
    return false;
  },
  processCwd: linuxCwd,
  processEnv: linuxEnvironment,
};
