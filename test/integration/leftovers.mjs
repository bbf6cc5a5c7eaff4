// What a chaos run may leave behind, looked at from outside: processes of the run still alive,
// lock files someone still holds, records in the lock directory.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Pids of live (not zombie) processes carrying `CHAOS_RUN=token` in their environment. */
export function survivors(token) {
  const out = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let env;
    try {
      // A zombie's environment cannot be read (ESRCH): it has exited, and holds no lock.
      env = fs.readFileSync(`/proc/${name}/environ`, 'latin1');
    } catch {
      continue;
    }
    if (env.split('\0').includes(`CHAOS_RUN=${token}`)) out.push(Number(name));
  }
  return out;
}

/** Lock and gate files held by anyone: a non-blocking exclusive flock(1) on each fails. */
export function heldLockFiles(dir) {
  return fs
    .readdirSync(dir)
    .filter((n) => n.endsWith('.lock') || n.endsWith('.gate'))
    .filter((n) => {
      const r = spawnSync('flock', ['-n', '-E', '42', '-x', path.join(dir, n), 'true']);
      if (r.status !== 0 && r.status !== 42)
        throw new Error(`flock -n ${n} failed: ${r.status ?? r.signal} ${r.stderr}`);
      return r.status === 42;
    });
}

/** Record files (`KEY~ID.json`) in the lock directory. */
export const recordFiles = (dir) =>
  fs.readdirSync(dir).filter((n) => /~[0-9a-f]{12}\.json$/.test(n));
