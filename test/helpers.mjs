// Shared test helpers: temporary directories and scripted lock parties (real processes).
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const fixture = (name) => path.join(repoRoot, 'test', 'fixtures', name);

/**
 * Runs `fn` when the test `t` ends, after every clean-up added later (last in, first out, as the
 * resources were made), and runs all of them even when one fails: the first failure is reported
 * after the rest have run. `t.after` alone runs hooks first in, first out and skips the rest after
 * a failing one, which leaves the extension active and its processes running.
 */
export function cleanup(t, fn) {
  let stack = cleanups.get(t);
  if (stack === undefined) {
    stack = [];
    cleanups.set(t, stack);
    t.after(async () => {
      const errors = [];
      while (stack.length > 0) {
        try {
          await stack.pop()();
        } catch (e) {
          errors.push(e);
        }
      }
      if (errors.length === 1) throw errors[0];
      if (errors.length > 1) throw new AggregateError(errors, 'several clean-ups failed');
    });
  }
  stack.push(fn);
}

const cleanups = new WeakMap();

/** A fresh private directory, removed when the test ends. */
export function tempDir(t, prefix = 'tcl-') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  // Hooks run in the order they were added, so this one comes before those of the holders the
  // test spawned later: end them first, or they keep writing records into the directory.
  t.after(async () => {
    await killHolders();
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  });
  return dir;
}

/** Holder processes still running, so a test's clean-up can end them before removing their files. */
const liveHolders = new Set();

async function killHolders() {
  const exits = [...liveHolders].map((child) => {
    child.kill('SIGKILL');
    return new Promise((resolve) =>
      child.exitCode !== null || child.signalCode !== null
        ? resolve()
        : child.once('exit', resolve),
    );
  });
  await Promise.all(exits);
}

/** Spawns the holder fixture; returns a handle to await its JSON events and steer it. */
export function spawnHolder(t, args, { spawnPrefix = [], env = {} } = {}) {
  const argv = [...spawnPrefix, process.execPath, fixture('holder.mjs'), ...args];
  const child = spawn(argv[0], argv.slice(1), {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  liveHolders.add(child);
  child.once('exit', () => liveHolders.delete(child));
  const events = [];
  const waiters = [];
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  readline.createInterface({ input: child.stdout }).on('line', (line) => {
    let ev;
    try {
      ev = JSON.parse(line);
    } catch {
      return;
    }
    events.push(ev);
    for (const w of [...waiters]) if (w.match(ev)) w.resolve(ev);
  });
  const exited = new Promise((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  t.after(() => child.kill('SIGKILL'));
  const handle = {
    child,
    events,
    exited,
    get stderr() {
      return stderr;
    },
    /** Resolves with the first event (past or future) matching `name` and `pred`. */
    next(name, { timeout = 15000, pred = () => true, after = 0 } = {}) {
      const match = (ev) => ev.event === name && pred(ev);
      const seen = events.slice(after).find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const w = {
          match,
          resolve: (ev) => (
            clearTimeout(timer),
            waiters.splice(waiters.indexOf(w), 1),
            resolve(ev)
          ),
        };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(w), 1);
          reject(
            new Error(
              `no "${name}" event from holder ${args.join(' ')} within ${timeout} ms; events: ${JSON.stringify(events)}; stderr: ${stderr}`,
            ),
          );
        }, timeout);
        waiters.push(w);
      });
    },
    /** True when `name` has not happened within `ms` (a "must still be blocked" window). */
    async stillNo(name, ms = 300) {
      try {
        await handle.next(name, { timeout: ms });
        return false;
      } catch {
        return true;
      }
    },
    send(line) {
      child.stdin.write(line + '\n');
    },
  };
  return handle;
}
