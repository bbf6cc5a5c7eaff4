// Lifecycle faults of the lock state machine (issue 11) with fake servers and the real lock: starts
// that never finish, dispose during this window's own pending update, watcher failures, messages.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { test } from 'node:test';
import {
  cleanup,
  bundleForFile,
  coordinatorWorld,
  fakeUnit,
  LOCKSTATE_ENTRY,
  sleep,
  until,
} from './extension-harness.mjs';

const lib = bundleForFile('lifecycle', LOCKSTATE_ENTRY);
const setup = (t, options) => coordinatorWorld(t, lib, options);

test(
  'a server whose start never completes does not block a writer: the stop cancels the start',
  { timeout: 30000 },
  async (t) => {
    const s = setup(t);
    const unit = fakeUnit('stuck', [s.tc], s.events, { start: () => new Promise(() => {}) });
    void s.coordinator.setUnits([unit]);
    await until(() => s.events.includes('start stuck'), 'start begins');
    const writer = s.writer();
    await writer.next('acquired', 5000);
    assert.equal(unit.kills, 1, 'the half-started server is ended before the lock goes');
    assert.ok(s.log.has('start of server stuck cancelled'), s.log.lines.join('\n'));
    writer.release();
  },
);

test(
  'a start is bounded: a server that never comes up fails once and lets the lock go',
  { timeout: 30000 },
  async (t) => {
    const failures = [];
    const s = setup(t, {
      startTimeoutMs: 300,
      hooks: { onUnitFailed: (id, why) => failures.push(`${id}: ${why}`) },
    });
    const unit = fakeUnit('stuck', [s.tc], s.events, { start: () => new Promise(() => {}) });
    await s.coordinator.setUnits([unit]);
    await until(() => failures.length === 1, 'failure');
    assert.deepEqual(failures, ['stuck: it did not start within 300 ms']);
    assert.equal(unit.kills, 1);
    await until(() => s.status().holders.length === 0, 'lock released');
    await sleep(400);
    assert.equal(s.events.filter((e) => e === 'start stuck').length, 1, 'not retried by itself');
  },
);

test(
  'dispose while this window waits for its own write lock withdraws the intent; the update never runs',
  { timeout: 30000 },
  async (t) => {
    const s = setup(t);
    const writer = s.writer();
    await writer.next('acquired');
    let ran = false;
    const update = s.coordinator.update(s.tc, async () => void (ran = true), {
      command: ['rustup', 'update', 'stable'],
    });
    await until(() => s.status().waiting.some((h) => h.self), 'our intent is published');
    await s.coordinator.dispose();
    await assert.rejects(update);
    assert.deepEqual(
      s.status().waiting.filter((h) => h.self),
      [],
      'intent withdrawn',
    );
    writer.release();
    await writer.next('released');
    await sleep(300);
    assert.equal(ran, false);
  },
);

// A window whose user namespace allows no inotify watches at all (ENOSPC, as when the user's
// fs.inotify.max_user_watches is used up), without touching the machine's own limit.
const NO_WATCHES_WINDOW = `
const lib = require(process.argv[2]);
const [lockDir, name, tcPath] = process.argv.slice(3);
const say = (event, extra = {}) => process.stdout.write(JSON.stringify({ event, ...extra }) + '\\n');
const log = { info() {}, warn() {}, error: (m) => say('error', { m }) };
const coordinator = new lib.LockCoordinator({ lockDir, pollIntervalMs: 100, stopTimeoutMs: () => 1000, log, hooks: { onWarning: (m) => say('warning', { m }), onStepAside: () => say('stepped aside') } });
let starts = 0;
const unit = { id: 'ls', toolchains: [{ name, path: tcPath }], owned: true, signature: 'ls', pid: undefined, running: false,
  isRunning: () => unit.running, async start() { unit.running = true; say('started', { n: ++starts }); }, async stop() { unit.running = false; say('stopped'); },
  async kill() { unit.running = false; }, onDidExit: () => ({ dispose() {} }) };
void coordinator.setUnits([unit]);
setInterval(() => {}, 1000); // an extension host lives on
`;

test(
  'no inotify watch to be had: the window is told once, and still steps aside for a writer',
  { timeout: 30000 },
  async (t) => {
    const probe = spawnSync(
      'unshare',
      ['-Ur', 'sh', '-c', 'echo 0 > /proc/sys/user/max_inotify_watches'],
      { stdio: 'ignore' },
    );
    if (probe.status !== 0)
      return t.skip('cannot lower the inotify limit in a user namespace here');
    const s = setup(t);
    const script = path.join(s.root, 'window.cjs');
    fs.writeFileSync(script, NO_WATCHES_WINDOW);
    const child = spawn(
      'unshare',
      [
        '-Ur',
        'sh',
        '-c',
        'echo 0 > /proc/sys/user/max_inotify_watches && exec "$0" "$@"',
        process.execPath,
        script,
        lib.file,
        s.lockDir,
        s.tc.name,
        s.tc.path,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    cleanup(t, () => child.kill('SIGKILL'));
    const events = [];
    readline.createInterface({ input: child.stdout }).on('line', (l) => events.push(JSON.parse(l)));
    await until(
      () => events.some((e) => e.event === 'started'),
      `window start: ${JSON.stringify(events)}`,
    );
    const writer = s.writer();
    await writer.next('acquired', 10000);
    assert.ok(
      events.some((e) => e.event === 'stopped'),
      `stopped before the writer got the lock: ${JSON.stringify(events)}`,
    );
    const warnings = events.filter((e) => e.event === 'warning').map((e) => e.m);
    assert.ok(
      warnings.some((m) => /changes are noticed by polling/.test(m)),
      JSON.stringify(events),
    );
    assert.equal(new Set(warnings).size, warnings.length, 'each warning once');
    writer.release();
    await until(() => events.filter((e) => e.event === 'started').length === 2, 'restart');
  },
);
