// Lifecycle faults of the lock state machine (issue 11) with fake servers and the real lock: starts
// that never finish, dispose during this window's own pending update, watcher failures, messages.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { bundle, fakeUnit, memoryLog, sleep, spawnWriter, tempDir, until } from './extension-harness.mjs';

let lib;
let buildDir;
before(async () => {
  buildDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tcl-ext-build-'));
  lib = await bundle(buildDir, 'lifecycle', "export * from './src/extension/lockstate';\nexport * as engine from './src/lock/index';");
});
after(() => fs.rmSync(buildDir, { recursive: true, force: true }));

function setup(t, { stopTimeoutMs = 2000, startTimeoutMs, hooks = {} } = {}) {
  const root = tempDir(t);
  const lockDir = path.join(root, 'locks');
  const tc = { name: 'stable', path: path.join(root, 'toolchains', 'stable') };
  fs.mkdirSync(tc.path, { recursive: true });
  const log = memoryLog();
  const events = [];
  const coordinator = new lib.module.LockCoordinator({
    lockDir,
    pollIntervalMs: 200,
    stopTimeoutMs: () => stopTimeoutMs,
    ...(startTimeoutMs === undefined ? {} : { startTimeoutMs: () => startTimeoutMs }),
    log,
    hooks,
  });
  t.after(() => coordinator.dispose());
  const status = () => lib.module.engine.status({ lockDir, toolchains: [tc] })[0];
  const writer = () => spawnWriter(t, lib.file, lockDir, tc);
  return { root, lockDir, tc, log, events, coordinator, status, writer };
}

test('a server whose start never completes does not block a writer: the stop cancels the start', { timeout: 30000 }, async (t) => {
  const s = setup(t);
  const unit = fakeUnit('stuck', [s.tc], s.events, { start: () => new Promise(() => {}) });
  void s.coordinator.setUnits([unit]);
  await until(() => s.events.includes('start stuck'), 'start begins');
  const writer = s.writer();
  await writer.next('acquired', 5000);
  assert.equal(unit.kills, 1, 'the half-started server is ended before the lock goes');
  assert.ok(s.log.has('start of server stuck cancelled'), s.log.lines.join('\n'));
  writer.release();
});

test('a start is bounded: a server that never comes up fails once and lets the lock go', { timeout: 30000 }, async (t) => {
  const failures = [];
  const s = setup(t, { startTimeoutMs: 300, hooks: { onUnitFailed: (id, why) => failures.push(`${id}: ${why}`) } });
  const unit = fakeUnit('stuck', [s.tc], s.events, { start: () => new Promise(() => {}) });
  await s.coordinator.setUnits([unit]);
  await until(() => failures.length === 1, 'failure');
  assert.deepEqual(failures, ['stuck: it did not start within 300 ms']);
  assert.equal(unit.kills, 1);
  await until(() => s.status().holders.length === 0, 'lock released');
  await sleep(400);
  assert.equal(s.events.filter((e) => e === 'start stuck').length, 1, 'not retried by itself');
});

test('dispose while this window waits for its own write lock withdraws the intent; the update never runs', { timeout: 30000 }, async (t) => {
  const s = setup(t);
  const writer = s.writer();
  await writer.next('acquired');
  let ran = false;
  const update = s.coordinator.update(s.tc, async () => void (ran = true), { command: ['rustup', 'update', 'stable'] });
  await until(() => s.status().waiting.some((h) => h.self), 'our intent is published');
  await s.coordinator.dispose();
  await assert.rejects(update);
  assert.deepEqual(s.status().waiting.filter((h) => h.self), [], 'intent withdrawn');
  writer.release();
  await writer.next('released');
  await sleep(300);
  assert.equal(ran, false);
});
