// Managed servers through the real vscode-languageclient (vscode itself faked) against a real LSP
// server process, under the real lock: graceful LSP stop, kill on timeout, crash restarts.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { test } from 'node:test';
import {
  cleanup,
  alive,
  bundleForFile,
  fakeServerPath,
  fakeVscodePath,
  MANAGED_ENTRY,
  memoryLog,
  sleep,
  spawnWriter,
  tempDir,
  until,
} from './extension-harness.mjs';

const require = createRequire(import.meta.url);
const lib = bundleForFile('managed', MANAGED_ENTRY, { vscodeFake: fakeVscodePath });
const processHelpers = bundleForFile('procs', "export * from './src/lock/os/process-tree';");

function setup(t, { mode = 'normal', stopTimeoutMs = 3000, commands = '' } = {}) {
  const root = tempDir(t);
  const lockDir = path.join(root, 'locks');
  const tc = { name: 'stable', path: path.join(root, 'stable') };
  fs.mkdirSync(tc.path);
  const serverLog = path.join(root, 'server.log');
  const log = memoryLog();
  const vscode = require(fakeVscodePath);
  const output = vscode.window.createOutputChannel(`servers-${path.basename(root)}`);
  const unit = new lib.module.ManagedServer(
    {
      id: 'fake-ls',
      toolchain: 'stable',
      command: process.execPath,
      args: [fakeServerPath],
      env: {
        FAKE_LS_MODE: mode,
        FAKE_LS_LOG: serverLog,
        FAKE_TC: '${toolchainPath}',
        FAKE_LS_COMMANDS: commands,
      },
      documentSelector: [{ language: 'plaintext' }],
    },
    tc,
    { log, output, cwd: root, stopTimeoutMs: () => stopTimeoutMs },
  );
  const coordinator = new lib.module.LockCoordinator({
    lockDir,
    pollIntervalMs: 200,
    stopTimeoutMs: () => stopTimeoutMs,
    log,
  });
  cleanup(t, async () => {
    await coordinator.dispose();
    if (unit.pid)
      try {
        process.kill(-unit.pid, 'SIGKILL');
      } catch {}
  });
  const serverEvents = () => (fs.existsSync(serverLog) ? fs.readFileSync(serverLog, 'utf8') : '');
  const ownReaders = () =>
    lib.module.engine.status({ lockDir, toolchains: [tc] })[0].holders.filter((h) => h.self).length;
  return {
    root,
    lockDir,
    tc,
    log,
    unit,
    coordinator,
    serverEvents,
    ownReaders,
    writer: () => spawnWriter(t, lib.file, lockDir, tc),
  };
}

test('a managed server starts under the read lock, stops through LSP shutdown/exit for a writer, and restarts', async (t) => {
  const s = setup(t);
  await s.coordinator.setUnits([s.unit]);
  await until(() => s.log.has('server fake-ls started pid='), 'start');
  const pid1 = s.unit.pid;
  assert.ok(alive(pid1));
  assert.ok(s.log.has(`server fake-ls started pid=${pid1}`));
  assert.match(
    s.serverEvents(),
    /started held=stable-[0-9a-f]{12} auto-install=0/,
    'server env marks it as running under the read lock; rustup proxies it runs never install a toolchain',
  );
  assert.equal(s.ownReaders(), 1);

  const writer = s.writer();
  await writer.next('acquired');
  const events = s.serverEvents();
  assert.match(events, new RegExp(`${pid1} recv shutdown`));
  assert.match(events, new RegExp(`${pid1} recv exit`));
  assert.equal(alive(pid1), false, 'server process is gone before the writer has the lock');
  assert.equal(s.unit.isRunning(), false);
  assert.equal(s.ownReaders(), 0);

  writer.release();
  await until(
    () => s.log.lines.filter((l) => l.includes('server fake-ls started pid=')).length === 2,
    'restart',
  );
  assert.notEqual(s.unit.pid, pid1);
  assert.ok(alive(s.unit.pid));
  await s.coordinator.dispose();
  if (process.env.TCL_DEBUG) console.error(s.serverEvents());
  assert.doesNotMatch(s.serverEvents(), /Error|exception/i, s.serverEvents());
});

test('a server command another extension already registered is skipped, and the server still starts', async (t) => {
  const vscode = require(fakeVscodePath);
  const owner = vscode.commands.registerCommand('fake.clash', () => 'the other extension');
  cleanup(t, () => owner.dispose());
  const s = setup(t, { commands: 'fake.clash,fake.own' });
  await s.coordinator.setUnits([s.unit]);
  await until(() => s.log.has('server fake-ls started pid='), `start: ${s.log.lines.join('\n')}`);
  assert.ok(
    s.log.has('its command fake.clash is already registered by another extension'),
    s.log.lines.join('\n'),
  );
  assert.equal(
    await vscode.commands.executeCommand('fake.clash'),
    'the other extension',
    'the other extension keeps its command',
  );
  assert.ok(vscode.state.commands.has('fake.own'), "the server's other command is registered");
});

test('a server that ignores shutdown and SIGTERM is killed after stopTimeout; the lock goes only then', async (t) => {
  const s = setup(t, { mode: 'hang', stopTimeoutMs: 500 });
  await s.coordinator.setUnits([s.unit]);
  await until(() => s.log.has('server fake-ls started pid='), 'start');
  const pid = s.unit.pid;
  const writer = s.writer();
  await writer.next('acquired');
  assert.equal(alive(pid), false);
  assert.ok(
    s.log.has('server fake-ls did not stop within 500 ms; killing its process tree'),
    s.log.lines.join('\n'),
  );
  const killed = s.log.lines.findIndex((l) => l.includes('server fake-ls killed'));
  const released = s.log.lines.findIndex((l) => l.includes('read lock released stable'));
  assert.ok(killed >= 0 && killed < released);
  writer.release();
  await until(() => s.unit.isRunning() && s.unit.pid && s.unit.pid !== pid, 'restart after kill');
});

test('helpers a server leaves behind are ended with it', async (t) => {
  const s = setup(t, { mode: 'orphan' });
  await s.coordinator.setUnits([s.unit]);
  await until(() => /child (\d+)/.test(s.serverEvents()), 'server child');
  const child = Number(/child (\d+)/.exec(s.serverEvents())[1]);
  assert.ok(alive(child));
  const writer = s.writer();
  await writer.next('acquired');
  await until(() => !alive(child), 'child ended');
  writer.release();
});

test('a crash is restarted by the client and leaves the lock alone', async (t) => {
  const s = setup(t);
  await s.coordinator.setUnits([s.unit]);
  await until(() => s.log.has('server fake-ls started pid='), 'start');
  const pid = s.unit.pid;
  process.kill(pid, 'SIGKILL');
  await until(
    () => s.unit.pid !== pid && s.unit.pid !== undefined && alive(s.unit.pid),
    'client restarts it',
  );
  assert.ok(s.log.has('server fake-ls exited unexpectedly'));
  assert.ok(s.log.has(`server fake-ls restarted pid=${s.unit.pid}`));
  assert.equal(s.ownReaders(), 1, 'lock still held');
  // And the next update still stops the restarted process.
  const writer = s.writer();
  await writer.next('acquired');
  assert.equal(s.unit.isRunning(), false);
  writer.release();
  await until(() => s.unit.isRunning(), 'restart');
});

for (const [what, name, why] of [
  ['does not exist', 'no-such-server', /no-such-server does not exist/],
  [
    'runs through a file (Node throws at once)',
    'a-file/server',
    /a-file\/server cannot be run: a part of its path is a file, not a directory/,
  ],
])
  test(`a server command that ${what} fails once with a clear message`, async (t) => {
    const root = tempDir(t);
    fs.writeFileSync(path.join(root, 'a-file'), '');
    await failsOnce(t, root, path.join(root, name), why);
  });

async function failsOnce(t, root, command, why) {
  const tc = { name: 'stable', path: root };
  const log = memoryLog();
  const failures = [];
  const vscode = require(fakeVscodePath);
  const unit = new lib.module.ManagedServer(
    {
      id: 'missing',
      command,
      args: [],
      env: {},
      documentSelector: [],
    },
    tc,
    { log, output: vscode.window.createOutputChannel('x'), cwd: root, stopTimeoutMs: () => 1000 },
  );
  const coordinator = new lib.module.LockCoordinator({
    lockDir: path.join(root, 'locks'),
    stopTimeoutMs: () => 1000,
    log,
    hooks: { onUnitFailed: (id, why) => failures.push(why) },
  });
  cleanup(t, () => coordinator.dispose());
  await coordinator.setUnits([unit]);
  await until(() => failures.length === 1, 'failure');
  assert.match(failures[0], why);
  await sleep(300);
  assert.equal(failures.length, 1);
}

test('dispose stops a managed server and releases its lock', async (t) => {
  const s = setup(t);
  await s.coordinator.setUnits([s.unit]);
  await until(() => s.log.has('server fake-ls started pid='), 'start');
  const pid = s.unit.pid;
  await s.coordinator.dispose();
  assert.equal(alive(pid), false);
  assert.equal(s.ownReaders(), 0);
  assert.match(s.serverEvents(), /recv shutdown/);
});

test('a server that fails to start is reported with its expanded command and its own reason', async (t) => {
  const root = tempDir(t);
  const tc = { name: 'stable', path: root };
  const log = memoryLog();
  const failures = [];
  const vscode = require(fakeVscodePath);
  const make = (id, command, args) =>
    new lib.module.ManagedServer({ id, command, args, env: {}, documentSelector: [] }, tc, {
      log,
      output: vscode.window.createOutputChannel(id),
      cwd: root,
      stopTimeoutMs: () => 1000,
    });
  const coordinator = new lib.module.LockCoordinator({
    lockDir: path.join(root, 'locks'),
    stopTimeoutMs: () => 1000,
    log,
    hooks: { onUnitFailed: (id, why) => failures.push(`${id}: ${why}`) },
  });
  cleanup(t, () => coordinator.dispose());
  await coordinator.setUnits([
    make('missing', '${toolchainPath}/bin/no-such-ls', []),
    make('broken', process.execPath, [
      '-e',
      'console.error("fatal: cannot read ls.toml"); process.exit(3)',
    ]),
  ]);
  await until(() => failures.length === 2, `failures: ${failures}`);
  const missing = failures.find((f) => f.startsWith('missing'));
  assert.ok(missing.includes(`${root}/bin/no-such-ls`), missing);
  assert.ok(!missing.includes('${toolchainPath}'), missing);
  assert.match(missing, /does not exist/);
  const broken = failures.find((f) => f.startsWith('broken'));
  assert.match(broken, /exit(ed with)? (code|status) 3/, broken);
  assert.match(broken, /fatal: cannot read ls\.toml/, broken);
});

test('a server crashing for good says once that it will not be restarted', async (t) => {
  const failures = [];
  const s = setup(t);
  s.coordinator.options.hooks = { onUnitFailed: (id, why) => failures.push(why) };
  await s.coordinator.setUnits([s.unit]);
  await until(() => s.log.has('server fake-ls started pid='), 'start');
  while (failures.length === 0) {
    const pid = s.unit.pid;
    // A crash of a server that is up (initialized), as in real life.
    await until(() => s.serverEvents().includes(`${pid} recv initialized`), 'initialized');
    process.kill(pid, 'SIGKILL');
    await until(
      () => failures.length > 0 || (s.unit.pid !== pid && s.unit.pid !== undefined),
      'restart or give up',
    );
  }
  assert.equal(failures.length, 1);
  assert.equal(failures[0].match(/will not be restarted/g).length, 1, failures[0]);
  assert.match(failures[0], /crashed 5 times in 3 minutes/);
});

test('a process group whose members have all exited is not running, though nobody reaped them (an init that does not reap)', async (t) => {
  const procs = processHelpers.module;
  // `sleep` stands for an init that never reaps: the child setsid made leads its own group, exits,
  // and stays a zombie of it.
  const parent = spawn('sh', ['-c', "setsid sh -c 'echo $$' & exec sleep 60"], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  cleanup(t, () => parent.kill('SIGKILL'));
  let out = '';
  parent.stdout.on('data', (d) => (out += d));
  await until(() => /^\d+\n/.test(out), 'the child names itself');
  const leader = Number(out.trim());
  await until(
    () => /^Z/.test(fs.readFileSync(`/proc/${leader}/stat`, 'utf8').split(') ')[1]),
    'the child exited and was not reaped',
  );
  assert.doesNotThrow(() => process.kill(-leader, 0), 'the OS still counts its group');
  assert.equal(procs.treeAlive(leader), false, 'nothing of it runs');
  assert.equal(await procs.reapTree(leader, 1000), false, 'nothing left to end');
  // A member that runs still counts.
  const group = spawn('sh', ['-c', 'sleep 60 & exec sleep 60'], {
    detached: true,
    stdio: 'ignore',
  });
  cleanup(t, () => process.kill(-group.pid, 'SIGKILL'));
  assert.equal(procs.treeAlive(group.pid), true);
});
