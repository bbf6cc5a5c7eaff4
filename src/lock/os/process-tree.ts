// Process-tree helpers for servers and update commands. POSIX children are started in their own
// process group (detached), so the whole tree can be signalled at once.
import { spawnSync, type ChildProcess } from 'node:child_process';
import { message } from '../errors';
import { groupRunning } from './proctable';

const windows = process.platform === 'win32';

/** Spawn options that make `pid` the leader of a process group we can kill as a whole. */
export const groupSpawnOptions = { detached: !windows, windowsHide: true } as const;

/** Signals the process tree led by `pid` (its process group on POSIX, taskkill /T on Windows). */
export function killTree(pid: number, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (windows) {
    spawnSync('taskkill', ['/T', '/F', '/PID', String(pid)], {
      stdio: 'ignore',
      windowsHide: true,
    });
    return;
  }
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone.
    }
  }
}

/**
 * True while any process of the group led by `pid` runs (POSIX; on Windows: the process itself).
 * Zombies do not count where the process table says which they are: helpers a server left are
 * reparented, and an init that does not reap (as in many containers) would keep them forever.
 */
export function treeAlive(pid: number): boolean {
  try {
    process.kill(windows ? pid : -pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  return windows || (groupRunning(pid) ?? true);
}

/** Resolves true once `child` has exited, false after `ms` (never, without a bound). */
export function waitForExit(child: ChildProcess, ms?: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = ms === undefined ? undefined : setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** After the leader exited: gives the rest of its group `graceMs` after SIGTERM, then SIGKILL. */
export async function reapTree(pid: number, graceMs: number): Promise<boolean> {
  if (windows || !treeAlive(pid)) return false;
  killTree(pid, 'SIGTERM');
  const end = Date.now() + graceMs;
  while (Date.now() < end && treeAlive(pid)) await new Promise((r) => setTimeout(r, 25));
  if (treeAlive(pid)) killTree(pid, 'SIGKILL');
  return true;
}

/** Why a program could not be run, in the user's terms rather than spawn's. */
export function spawnFailure(program: string, err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const named = /[\\/]/.test(program);
  if (code === 'ENOENT')
    return named ? `${program} does not exist` : `${program} is not on PATH (give its full path)`;
  if (code === 'EACCES') return `${program} is not executable`;
  if (code === 'ENOTDIR')
    return `${program} cannot be run: a part of its path is a file, not a directory`;
  return `${program} could not be run: ${message(err)}`;
}
