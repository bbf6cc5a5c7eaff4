// A process that exits holding locks leaves no records behind, in every lock directory it used.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot, tempDir } from '../helpers.mjs';

test('exit with locks held in two lock directories removes the records in both', (t) => {
  const root = tempDir(t);
  const dirs = ['a', 'b'].map((d) => path.join(root, d));
  const tc = path.join(root, 'tc');
  fs.mkdirSync(tc);
  const script = `
    const engine = require(${JSON.stringify(path.join(repoRoot, 'dist', 'lock.js'))});
    (async () => {
      for (const lockDir of ${JSON.stringify(dirs)}) await engine.acquireRead({ name: 'tc', path: ${JSON.stringify(tc)} }, { lockDir });
      const records = ${JSON.stringify(dirs)}.map((d) => require('fs').readdirSync(d).filter((f) => f.endsWith('.json') && f.includes('~')).length);
      console.log(JSON.stringify(records));
      process.exit(0);
    })();`;
  const held = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }));
  assert.deepEqual(held, [1, 1], 'each directory had a record while the locks were held');
  for (const d of dirs) {
    assert.deepEqual(
      fs.readdirSync(d).filter((f) => f.includes('~')),
      [],
      `no record left in ${d}`,
    );
  }
});

test('releasing a lock a running child inherited leaves it to the child, with the record that names it', async (t) => {
  const { spawn } = await import('node:child_process');
  const { createRequire } = await import('node:module');
  const engine = createRequire(import.meta.url)('../../dist/lock.js');
  const root = tempDir(t);
  const lockDir = path.join(root, 'locks');
  const tc = path.join(root, 'tc');
  fs.mkdirSync(tc);
  const lock = await engine.acquireWrite([{ name: 'tc', path: tc }], {
    lockDir,
    command: ['rustup', 'update'],
  });
  // The update, as the extension runs it: the lock's descriptor handed down as fd 3.
  const child = spawn('sleep', ['30'], { stdio: ['ignore', 'ignore', 'ignore', ...lock.fds] });
  t.after(() => child.kill('SIGKILL'));
  lock.addChild(child.pid);
  // The window that started it goes away (dispose, or its extension host exits).
  await lock.release();
  let [s] = engine.status({ lockDir });
  assert.equal(s.state, 'write', 'the child still holds the write lock');
  assert.equal(s.writer?.state, 'held');
  assert.deepEqual(
    s.writer?.children,
    [child.pid],
    'status names the process that really runs the update',
  );
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  [s] = engine.status({ lockDir });
  assert.equal(s.state, 'free');
  assert.equal(s.writer, null);
  assert.deepEqual(s.holders, []);
});

test('a window that dies while its update runs: the update keeps the lock, status names it, not a dead foreign holder', async (t) => {
  const root = tempDir(t);
  const lockDir = path.join(root, 'locks');
  const tc = path.join(root, 'tc');
  fs.mkdirSync(tc);
  // The "extension host": takes the write lock, starts the update with the lock's descriptor,
  // records it, and dies at once (as a closed window's host does), the update still running.
  const script = `
    const { spawn } = require('child_process');
    const engine = require(${JSON.stringify(path.join(repoRoot, 'dist', 'lock.js'))});
    (async () => {
      const lock = await engine.acquireWrite([{ name: 'tc', path: ${JSON.stringify(tc)} }], { lockDir: ${JSON.stringify(lockDir)}, command: ['rustup', 'update'] });
      const child = spawn('sleep', ['30'], { stdio: ['ignore', 'ignore', 'ignore', ...lock.fds], detached: true });
      lock.addChild(child.pid);
      child.unref();
      console.log(child.pid);
      await lock.release();
      process.exit(0);
    })();`;
  const childPid = Number(
    execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }).trim(),
  );
  t.after(() => {
    try {
      process.kill(childPid, 'SIGKILL');
    } catch {}
  });
  const { createRequire } = await import('node:module');
  const engine = createRequire(import.meta.url)('../../dist/lock.js');
  const [s] = engine.status({ lockDir });
  assert.equal(s.state, 'write', 'the update still holds the write lock');
  assert.equal(s.holders.length, 1, JSON.stringify(s.holders));
  assert.equal(s.holders[0].foreign, false, 'not "(unknown program), plain flock, no record"');
  assert.deepEqual(s.holders[0].command, ['rustup', 'update']);
  assert.deepEqual(s.holders[0].children, [childPid]);
  assert.equal(s.holders[0].liveness, 'alive');
});
