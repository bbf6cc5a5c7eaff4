// `run` and `update` order real processes around a real (fake) toolchain update. Each ordering
// has a control that does the same without the lock and must see a torn toolchain; otherwise
// the locked runs would prove nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  BLOCKED_MS,
  fixture,
  sandbox,
  settlesWithin,
  start,
  startProcess,
  stateOf,
} from '../fixtures/cli-harness.mjs';

const POLL = ['--poll-interval', '100'];
const versions = (tc) => ['A', 'B'].map((f) => fs.readFileSync(path.join(tc, f), 'utf8').trim());

test('control: without the lock, a reader in the middle of an update sees a torn toolchain', async (t) => {
  const { env, toolchain } = sandbox(t);
  const tc = toolchain();
  // Reader first: it reads A, the update runs to completion, the reader reads B.
  const reader = startProcess(fixture('toolchain-checker.mjs', tc, '--pause'), { env });
  await reader.waitFor('stdout', /read A 1/);
  const updater = startProcess(fixture('toolchain-updater.mjs', tc), { env });
  assert.equal((await updater.result()).code, 0);
  reader.send();
  const r1 = await reader.result();
  assert.match(r1.stdout, /torn A=1 B=2/);
  assert.equal(r1.code, 3);
  // Writer first: the update has written A only when the reader reads both.
  const paused = startProcess(fixture('toolchain-updater.mjs', tc, '--pause'), { env });
  await paused.waitFor('stdout', /wrote A 3/);
  const r2 = await startProcess(fixture('toolchain-checker.mjs', tc), { env }).result();
  assert.match(r2.stdout, /torn A=3 B=2/);
  paused.send();
  assert.equal((await paused.result()).code, 0);
});

test('an update waits for a running reader, which never sees a half-written toolchain', async (t) => {
  const { env, toolchain } = sandbox(t);
  const tc = toolchain();
  const reader = start(
    ['run', tc, '--purpose', 'checking', '--', ...fixture('toolchain-checker.mjs', tc, '--pause')],
    { env },
  );
  await reader.waitFor('stdout', /read A 1/);
  const update = start(['update', tc, ...POLL, '--', ...fixture('toolchain-updater.mjs', tc)], {
    env,
  });
  // The update names what it waits for; the reader is told an update waits for it.
  await update.waitFor(
    'stderr',
    /waiting for the write lock of tc; blocked by reader .*toolchain-checker\.mjs.*\[checking\] \(pid \d+/,
  );
  await reader.waitFor(
    'stderr',
    /an update of tc is waiting for .*toolchain-checker\.mjs.* to finish: .*toolchain-updater\.mjs/,
  );
  assert.equal(await stateOf(env, tc), 'update-pending');
  assert.equal(
    await settlesWithin(update.waitFor('stdout', /wrote A/), BLOCKED_MS),
    false,
    'the update must not start while the reader runs',
  );
  reader.send();
  const r = await reader.result();
  assert.match(r.stdout, /consistent 1/);
  assert.equal(r.code, 0);
  const u = await update.result();
  assert.equal(u.code, 0, u.stderr);
  assert.match(u.stdout, /wrote A 2\nwrote B 2/);
  assert.match(u.stderr, /got the write lock of tc after/);
  assert.deepEqual(versions(tc), ['version 2', 'version 2']);
  assert.equal(await stateOf(env, tc), 'free');
});

test('a reader that comes during an update waits for it and sees the finished toolchain', async (t) => {
  const { env, toolchain } = sandbox(t);
  const tc = toolchain();
  const update = start(['update', tc, '--', ...fixture('toolchain-updater.mjs', tc, '--pause')], {
    env,
  });
  await update.waitFor('stdout', /wrote A 2/);
  assert.equal(await stateOf(env, tc), 'write');
  const reader = start(['run', tc, ...POLL, '--', ...fixture('toolchain-checker.mjs', tc)], {
    env,
  });
  await reader.waitFor(
    'stderr',
    /waiting for the read lock of tc; blocked by updating .*toolchain-updater\.mjs/,
  );
  assert.equal(
    await settlesWithin(reader.waitFor('stdout', /read A/), BLOCKED_MS),
    false,
    'the reader must not start during the update',
  );
  update.send();
  assert.equal((await update.result()).code, 0);
  const r = await reader.result();
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /read A 2\nconsistent 2/);
});

test('many readers and updaters at once: every reader sees a whole toolchain', async (t) => {
  const { env, toolchain } = sandbox(t);
  const tc = toolchain();
  const updates = [];
  const reads = [];
  for (let i = 0; i < 3; i++) {
    updates.push(
      start(['update', tc, ...POLL, '--', ...fixture('toolchain-updater.mjs', tc)], { env }).result(
        60_000,
      ),
    );
    for (let j = 0; j < 2; j++)
      reads.push(
        start(['run', tc, ...POLL, '--', ...fixture('toolchain-checker.mjs', tc)], { env }).result(
          60_000,
        ),
      );
  }
  for (const u of await Promise.all(updates)) assert.equal(u.code, 0, u.stderr);
  for (const r of await Promise.all(reads)) {
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /consistent \d/);
  }
  assert.deepEqual(versions(tc), ['version 4', 'version 4']);
});
