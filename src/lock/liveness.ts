import * as fs from 'node:fs';
import { processStartTime, type SelfIdentity } from './identity';
import type { HolderRecord } from './records';

/** `dead` is only said when proved; anything we cannot see is `unknown`. */
export type Liveness = 'alive' | 'unknown' | 'dead';

type ProcessFate = 'alive' | 'gone' | 'unknown';

function fateOnLinux(pid: number, startTime: string | null): ProcessFate {
  if (!fs.existsSync(`/proc/${pid}`)) return 'gone';
  const now = processStartTime(pid);
  if (now === null) return fs.existsSync(`/proc/${pid}`) ? 'unknown' : 'gone';
  if (startTime === null) return 'unknown';
  // Same pid, different start time: the pid was reused by an unrelated process.
  return now === startTime ? 'alive' : 'gone';
}

/** Judges whether the processes behind a record still exist, from this process's point of view. */
export function recordLiveness(record: HolderRecord, self: SelfIdentity): Liveness {
  if (record.host !== self.host) return 'unknown';
  const sameMachineView =
    process.platform === 'linux' &&
    self.procConsistent &&
    self.bootId !== null &&
    record.bootId === self.bootId &&
    self.pidNamespace !== null &&
    record.pidNamespace === self.pidNamespace;
  if (process.platform === 'linux' || record.bootId !== null) {
    // A Linux holder we cannot see through the same /proc (other boot, PID namespace, or a /proc
    // mounted for another namespace): its pid means nothing here, so say nothing.
    if (!sameMachineView) return 'unknown';
  } else {
    // Systems without boot ids or /proc: a pid that answers is worth saying; silence proves nothing.
    return signalProbe(record.pid) ? 'alive' : 'unknown';
  }
  const fates = [fateOnLinux(record.pid, record.startTime), ...record.children.map((c) => fateOnLinux(c.pid, c.startTime))];
  if (fates.includes('alive')) return 'alive';
  if (fates.every((f) => f === 'gone')) return 'dead';
  return 'unknown';
}

function signalProbe(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
