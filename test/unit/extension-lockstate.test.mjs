// The lock state machine (servers × lock × pending update) with fake servers and the real lock:
// real writers in other processes, a real lock directory.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import {
  cleanup,
  bundleForFile,
  coordinatorWorld,
  fakeUnit,
  LOCKSTATE_ENTRY,
  memoryLog,
  sleep,
  until,
} from './extension-harness.mjs';

const lib = bundleForFile('lockstate', LOCKSTATE_ENTRY);

function setup(t, options) {
  const s = coordinatorWorld(t, lib, options);
  const ownReaders = () => s.status().holders.filter((h) => h.self && h.mode === 'read').length;
  return { ...s, ownReaders };
}

const stateOf = (coordinator, name = 'stable') =>
  coordinator.snapshot().find((s) => s.toolchain.name === name)?.state;

test('a pending writer: servers stop before the read lock goes, the writer proceeds, servers restart exactly once', async (t) => {
  const steps = [];
  const s = setup(t, {
    hooks: {
      onStepAside: (info) => {
        steps.push(`step aside for pid ${info.writer.pid}: ${info.units.join(',')}`);
        return () => steps.push('back');
      },
    },
  });
  let heldDuringStop = null;
  let writerHadItDuringStop = null;
  let writer;
  const unit = fakeUnit('fake-ls', [s.tc], s.events, {
    // Asserted below, not here: slots.ts treats a stop that throws as a failed stop (and kills).
    stop: async () => {
      heldDuringStop = s.ownReaders();
      await sleep(300);
      writerHadItDuringStop = writer.has('acquired');
    },
  });
  await s.coordinator.setUnits([unit]);
  await until(() => unit.starts === 1, 'first start');
  assert.equal(stateOf(s.coordinator), 'holding');
  assert.equal(s.ownReaders(), 1);
  assert.equal(
    unit.lastEnv.TOOLCHAIN_LOCK_HELD.split(',').length,
    1,
    'server runs marked as under the read lock',
  );

  writer = s.writer();
  await writer.next('acquired');
  assert.equal(heldDuringStop, 1, 'read lock was still held while the server stopped');
  assert.equal(
    writerHadItDuringStop,
    false,
    'the writer cannot have the lock while the server is still stopping',
  );
  assert.deepEqual(s.events, ['start fake-ls', 'stop fake-ls', 'stopped fake-ls']);
  assert.equal(s.ownReaders(), 0);
  assert.equal(stateOf(s.coordinator), 'pending');
  assert.ok(s.log.has(`update pending by rustup update stable`), s.log.lines.join('\n'));
  assert.deepEqual(steps, [`step aside for pid ${writer.child.pid}: fake-ls`]);
  await sleep(300);
  assert.equal(unit.starts, 1, 'no start while the writer holds the lock');

  writer.release();
  await until(() => unit.starts === 2, 'restart');
  await sleep(300);
  assert.equal(unit.starts, 2, 'restarted exactly once');
  assert.equal(stateOf(s.coordinator), 'holding');
  assert.equal(s.ownReaders(), 1);
  assert.deepEqual(steps.at(-1), 'back');
  const order = s.log.lines
    .filter((l) => !l.includes('stay stopped'))
    .filter((l) =>
      /server fake-ls (started|stopped)|read lock (acquired|released)|update pending/.test(l),
    )
    .map((l) => l.replace(/ in \d+ ms| pid=\d+|by .*/g, ''));
  assert.deepEqual(order, [
    'info read lock acquired stable',
    'info server fake-ls started',
    'info update pending ',
    'info server fake-ls stopped',
    'info read lock released stable',
    'info read lock acquired stable',
    'info server fake-ls started',
  ]);
});

test('two writers back to back: no server starts in between', async (t) => {
  const s = setup(t);
  const unit = fakeUnit('fake-ls', [s.tc], s.events);
  await s.coordinator.setUnits([unit]);
  await until(() => unit.starts === 1, 'first start');

  const first = s.writer();
  await first.next('acquired');
  const second = s.writer();
  await second.next('waiting');
  first.release();
  await second.next('acquired');
  await sleep(400);
  assert.equal(unit.starts, 1, 'started between the two updates');
  assert.equal(stateOf(s.coordinator), 'pending');
  second.release();
  await until(() => unit.starts === 2, 'restart after both');
  await sleep(300);
  assert.equal(unit.starts, 2);
  assert.equal(s.ownReaders(), 1);
});

test('a server that will not stop within stopTimeout is killed before the lock is released', async (t) => {
  const s = setup(t, { stopTimeoutMs: 300 });
  const unit = fakeUnit('stubborn', [s.tc], s.events, { stop: () => new Promise(() => {}) });
  await s.coordinator.setUnits([unit]);
  await until(() => unit.starts === 1, 'start');
  const writer = s.writer();
  await writer.next('acquired');
  assert.equal(unit.kills, 1);
  assert.deepEqual(s.events, ['start stubborn', 'stop stubborn', 'kill stubborn']);
  assert.ok(
    s.log.has('server stubborn did not stop within 300 ms; killing its process tree'),
    s.log.lines.join('\n'),
  );
  const killedAt = s.log.lines.findIndex((l) => l.includes('server stubborn killed'));
  const releasedAt = s.log.lines.findIndex((l) => l.includes('read lock released stable'));
  assert.ok(killedAt >= 0 && killedAt < releasedAt, 'killed before release');
  writer.release();
  await until(() => unit.starts === 2, 'restart');
});

test('a crash of a server does not release the lock; a final crash of the last one does, once', async (t) => {
  const failures = [];
  const s = setup(t, { hooks: { onUnitFailed: (id, why) => failures.push(`${id}: ${why}`) } });
  const a = fakeUnit('a', [s.tc], s.events);
  const b = fakeUnit('b', [s.tc], s.events);
  await s.coordinator.setUnits([a, b]);
  await until(() => a.starts === 1 && b.starts === 1, 'starts');

  a.crash(false); // its client restarts it: the lock must stay
  await sleep(200);
  assert.equal(s.ownReaders(), 1);
  assert.equal(stateOf(s.coordinator), 'holding');

  a.crash(true); // gone for good, but b still needs the lock
  await sleep(200);
  assert.equal(s.ownReaders(), 1);
  assert.equal(failures.length, 1);

  // An update still goes through cleanly and restarts only b.
  const writer = s.writer();
  await writer.next('acquired');
  writer.release();
  await until(() => b.starts === 2, 'b restarts');
  await sleep(300);
  assert.equal(a.starts, 1, 'a failed server is not restarted by itself');

  b.crash(true);
  await until(() => s.ownReaders() === 0, 'lock released when nothing needs it');
  assert.equal(stateOf(s.coordinator), 'idle');
  assert.equal(failures.length, 2);

  await s.coordinator.retry('a');
  await until(() => a.starts === 2 && s.ownReaders() === 1, 'retry takes the lock and starts a');
});

test('a toolchain gone after the update: the server is not restarted in a loop, the lock is let go', async (t) => {
  const failures = [];
  const s = setup(t, { hooks: { onUnitFailed: (id, why) => failures.push(`${id}: ${why}`) } });
  const unit = fakeUnit('fake-ls', [s.tc], s.events);
  await s.coordinator.setUnits([unit]);
  await until(() => unit.starts === 1, 'start');
  const writer = s.writer();
  await writer.next('acquired');
  fs.rmSync(s.tc.path, { recursive: true });
  writer.release();
  await until(() => failures.length === 1, 'failure reported');
  assert.match(failures[0], /does not exist/);
  await sleep(400);
  assert.equal(unit.starts, 1);
  assert.equal(failures.length, 1);
  await until(() => s.ownReaders() === 0, 'lock released');
});

test('a server that fails to start is reported once, not retried by itself', async (t) => {
  const failures = [];
  const s = setup(t, { hooks: { onUnitFailed: (id, why) => failures.push(why) } });
  let broken = true;
  const unit = fakeUnit('broken', [s.tc], s.events, {
    start: async () => {
      if (broken) throw new Error('spawn ls-bin ENOENT');
    },
  });
  await s.coordinator.setUnits([unit]);
  await until(() => failures.length === 1, 'failure');
  await sleep(300);
  assert.deepEqual(failures, ['spawn ls-bin ENOENT']);
  assert.equal(s.events.filter((e) => e === 'start broken').length, 1);
  broken = false;
  await s.coordinator.retry('broken');
  await until(() => unit.starts === 1, 'retry starts it');
});

test('this window updates: its servers stop, the write lock is taken, other windows step aside, all restart', async (t) => {
  const s = setup(t);
  const other = new lib.module.LockCoordinator({
    lockDir: s.lockDir,
    pollIntervalMs: 200,
    stopTimeoutMs: () => 2000,
    log: memoryLog(),
  });
  cleanup(t, () => other.dispose());
  const mine = fakeUnit('mine', [s.tc], s.events);
  const theirs = fakeUnit('theirs', [s.tc], s.events);
  await s.coordinator.setUnits([mine]);
  await other.setUnits([theirs]);
  await until(() => mine.starts === 1 && theirs.starts === 1, 'starts');
  assert.equal(s.ownReaders(), 2);

  const waited = [];
  let insideUpdate = null;
  await s.coordinator.update(
    s.tc,
    async (lock) => {
      insideUpdate = {
        mode: lock.mode,
        mineRunning: mine.isRunning(),
        theirsRunning: theirs.isRunning(),
        readers: s.ownReaders(),
      };
    },
    { command: ['rustup', 'update', 'stable'], onWait: (b) => waited.push(b.length) },
  );
  assert.deepEqual(insideUpdate, {
    mode: 'write',
    mineRunning: false,
    theirsRunning: false,
    readers: 0,
  });
  assert.ok(waited.length >= 1, 'waited for the other window');
  await until(() => mine.starts === 2 && theirs.starts === 2, 'restarts');
  assert.equal(s.ownReaders(), 2);
  assert.ok(s.log.has('write lock acquired stable'));
});

test('a failed update (command throws) still releases the write lock and restarts the servers', async (t) => {
  const s = setup(t);
  const unit = fakeUnit('fake-ls', [s.tc], s.events);
  await s.coordinator.setUnits([unit]);
  await until(() => unit.starts === 1, 'start');
  await assert.rejects(
    s.coordinator.update(
      s.tc,
      async () => {
        throw new Error('rustup exited with code 1');
      },
      { command: ['rustup', 'update', 'stable'] },
    ),
    /exited with code 1/,
  );
  await until(() => unit.starts === 2, 'restart');
  const st = lib.module.engine.status({ lockDir: s.lockDir, toolchains: [s.tc] })[0];
  assert.equal(st.state, 'read');
  assert.equal(st.writer, null);
});

test('cancelling the wait for the write lock restores the servers', async (t) => {
  const s = setup(t);
  const unit = fakeUnit('fake-ls', [s.tc], s.events);
  await s.coordinator.setUnits([unit]);
  await until(() => unit.starts === 1, 'start');
  const writer = s.writer();
  await writer.next('acquired');
  const abort = new AbortController();
  const p = s.coordinator.update(s.tc, async () => assert.fail('must not run'), {
    command: ['x'],
    signal: abort.signal,
    onWait: () => abort.abort(),
  });
  await assert.rejects(p, (err) => err.code === 'E_ABORTED');
  writer.release();
  await until(() => unit.starts === 2, 'restart after the foreign writer');
});

test('a running coordinated server found while a writer holds the lock is stopped first', async (t) => {
  const s = setup(t);
  const writer = s.writer();
  await writer.next('acquired');
  const ra = fakeUnit('rust-analyzer', [s.tc], s.events, { owned: false, initiallyRunning: true });
  const settled = s.coordinator.setUnits([ra]);
  await until(() => s.events.includes('stopped rust-analyzer'), 'stopped');
  assert.equal(stateOf(s.coordinator), 'acquiring');
  writer.release();
  await settled;
  await until(() => ra.starts === 1, 'started again after the update');
  assert.equal(s.ownReaders(), 1);
});

test('dispose stops owned servers and releases every lock, also while waiting behind a writer', async (t) => {
  const s = setup(t);
  const other = { name: 'nightly', path: path.join(s.root, 'toolchains', 'nightly') };
  fs.mkdirSync(other.path);
  const a = fakeUnit('a', [s.tc], s.events);
  const b = fakeUnit('b', [s.tc, other], s.events);
  const ra = fakeUnit('ra', [other], s.events, { owned: false, initiallyRunning: true });
  await s.coordinator.setUnits([a, b, ra]);
  await until(() => a.starts === 1 && b.starts === 1, 'starts');
  const writer = s.writer();
  await writer.next('acquired');
  await until(() => stateOf(s.coordinator) === 'pending', 'pending');
  assert.equal(b.isRunning(), false, 'a server on two toolchains stops when either is updated');
  await s.coordinator.dispose();
  assert.ok(s.log.has('all locks released'));
  writer.release();
  await writer.next('released');
  await sleep(300);
  const all = lib.module.engine.status({ lockDir: s.lockDir });
  assert.deepEqual(
    all.map((x) => x.holders.length + x.waiting.length),
    all.map(() => 0),
  );
  assert.equal(
    fs.readdirSync(s.lockDir).filter((f) => f.includes('~')).length,
    0,
    'no records left',
  );
  assert.equal(a.starts, 1);
  assert.equal(ra.stops, 0, 'servers of other extensions are left to them');
});

test('two updates from this window queued back to back: no start in between, one read lock after', async (t) => {
  const s = setup(t);
  const unit = fakeUnit('fake-ls', [s.tc], s.events);
  await s.coordinator.setUnits([unit]);
  await until(() => unit.starts === 1, 'start');
  const runs = [];
  const first = s.coordinator.update(
    s.tc,
    async () => {
      runs.push(`first running=${unit.isRunning()}`);
      await sleep(200);
    },
    { command: ['a'] },
  );
  const second = s.coordinator.update(
    s.tc,
    async () => void runs.push(`second running=${unit.isRunning()}`),
    { command: ['b'] },
  );
  await Promise.all([first, second]);
  assert.deepEqual(runs, ['first running=false', 'second running=false']);
  await until(() => unit.starts === 2, 'restart');
  await sleep(300);
  assert.equal(unit.starts, 2);
  assert.equal(s.ownReaders(), 1, 'exactly one read lock held');
});

test('an update of several toolchains stops the servers on each, holds every write lock while it runs, and restarts them all', async (t) => {
  const s = setup(t);
  const nightly = { name: 'nightly', path: path.join(s.root, 'toolchains', 'nightly') };
  fs.mkdirSync(nightly.path, { recursive: true });
  const onStable = fakeUnit('on-stable', [s.tc], s.events);
  const onNightly = fakeUnit('on-nightly', [nightly], s.events);
  await s.coordinator.setUnits([onStable, onNightly]);
  await until(() => onStable.starts === 1 && onNightly.starts === 1, 'starts');
  let inside = null;
  const keys = [
    lib.module.engine.toolchainKey(nightly.path),
    lib.module.engine.toolchainKey(s.tc.path),
  ];
  assert.ok(keys[0] < keys[1], 'nightly sorts first');
  // Given in reverse key order, and one of them twice: each lock is taken once, in key order.
  await s.coordinator.update(
    [s.tc, nightly, s.tc],
    async (lock) => {
      const st = lib.module.engine.status({ lockDir: s.lockDir, toolchains: [s.tc, nightly] });
      inside = {
        mode: lock.mode,
        keys: lock.keys,
        running: [onStable.isRunning(), onNightly.isRunning()],
        states: st.map((x) => x.state),
        writers: st.map(
          (x) => [...x.holders, ...x.waiting].filter((h) => h.mode === 'write').length,
        ),
      };
    },
    { command: ['rustup', 'update'] },
  );
  assert.deepEqual(inside, {
    mode: 'write',
    keys,
    running: [false, false],
    states: ['write', 'write'],
    writers: [1, 1],
  });
  await until(() => onStable.starts === 2 && onNightly.starts === 2, 'both restart');
  assert.deepEqual(
    [stateOf(s.coordinator, 'stable'), stateOf(s.coordinator, 'nightly')],
    ['holding', 'holding'],
  );
});

test('a lock error is in the state the moment the state says error: its text, never "unknown error"', async (t) => {
  const shown = [];
  const s = setup(t, {
    hooks: {
      // What a status bar rendering on this change would show.
      onChange: () => {
        for (const x of s.coordinator.snapshot()) if (x.state === 'error') shown.push(x.error);
      },
    },
  });
  fs.mkdirSync(s.lockDir, { mode: 0o700 });
  fs.chmodSync(s.lockDir, 0o777);
  const unit = fakeUnit('fake-ls', [s.tc], s.events);
  await s.coordinator.setUnits([unit]);
  await until(() => stateOf(s.coordinator) === 'error', 'error state');
  assert.ok(shown.length > 0);
  for (const text of shown) assert.match(text ?? 'null', /writable by others/);
});
