// The rust-analyzer preset against a stand-in of the rust-analyzer extension (same id, commands,
// settings and API shape; test/fixtures/fake-rust-analyzer) whose server runs a toolchain's real
// rust-analyzer-proc-macro-srv as its child: the stop waits for those processes, a restart during an
// update is stopped again, the user's own stop is respected, a give-up is a failure, and nothing
// runs before the read lock is held. Everything but `vscode` is real: processes, locks, the writer.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { before, test } from 'node:test';
import {
  cleanup,
  activateFor,
  addProcMacroSrv,
  bundleFakeRustAnalyzer,
  contributedDefaults,
  extensionForFile,
  fakeContext,
  fakeRustAnalyzerDir,
  item,
  log,
  logHas,
  repoRoot,
  stableRustup,
  until,
  vscode,
  windowWorld,
} from './extension-harness.mjs';

const { state } = vscode;

const ext = extensionForFile();
let ra;
before(async () => {
  ra = await bundleFakeRustAnalyzer(ext.dir);
});

/** True while `pid` exists and has not exited (a zombie has). */
function running(pid) {
  try {
    return !/^\d+ \(.*\) [ZX] /.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** The stand-in's server processes: node server.js (our children) and its proc-macro-srv. */
function raProcesses(w) {
  const out = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let exe;
    try {
      exe = fs.readlinkSync(`/proc/${name}/exe`);
    } catch {
      continue;
    }
    if (exe === w.procMacroSrv && running(Number(name))) out.push(Number(name));
  }
  const servers = w.spawned.filter(running);
  return { servers, procMacro: out, all: [...servers, ...out] };
}

/** A rustup home whose `stable` holds a real proc-macro server; a Cargo project pinned to it. */
function world(t, settings = {}) {
  const { root, project, lockDir } = windowWorld(t, { prefix: 'tcl-coord-' });
  const { stable } = stableRustup(t, root, project);
  const procMacroSrv = addProcMacroSrv(stable);
  Object.assign(
    state.defaultConfig,
    contributedDefaults(path.join(fakeRustAnalyzerDir, 'package.json')),
    contributedDefaults(path.join(repoRoot, 'package.json')),
  );
  Object.assign(
    state.globalConfig,
    {
      'rust-analyzer.procMacro.server': procMacroSrv,
      'toolchainLock.stopTimeout': 5000,
    },
    settings,
  );
  const context = (name) => fakeContext(root, { storage: name });
  // Every server the stand-in spawned, from its log.
  const spawned = () =>
    (state.outputs.get('rust-analyzer (stand-in)')?.lines ?? [])
      .map((l) => / server spawned pid (\d+)$/.exec(l)?.[1])
      .filter(Boolean)
      .map(Number);
  return {
    root,
    stable: fs.realpathSync(stable),
    procMacroSrv: fs.realpathSync(procMacroSrv),
    lockDir,
    context,
    get spawned() {
      return spawned();
    },
    starts: [],
  };
}

/** Activates the stand-in as VS Code would (workspaceContains:Cargo.toml), recording its server pids. */
async function activateRa(t, w) {
  const context = w.context('ra');
  const api = await ra.module.activate(context);
  const start = api.start.bind(api);
  // When it starts a server: was the toolchain's read lock held at that moment?
  api.start = async () => {
    w.starts.push(readers(w).length);
    await start();
  };
  state.extensions.set('rust-lang.rust-analyzer', {
    id: 'rust-lang.rust-analyzer',
    isActive: true,
    exports: api,
  });
  cleanup(t, async () => {
    for (const d of context.subscriptions) d.dispose();
    await until(() => raProcesses(w).all.length === 0, 'the stand-in server to end').catch(() =>
      raProcesses(w).all.forEach((p) => process.kill(p, 'SIGKILL')),
    );
  });
  return api;
}

const activate = (t, w) => activateFor(t, ext, w.context('storage'));

const readers = (w) =>
  ext.module.engine
    .status({ lockDir: w.lockDir })
    .flatMap((s) => s.holders.filter((h) => h.mode === 'read'));

const WRITER = `
const bundled = require(process.argv[2]);
const engine = bundled.engine ?? bundled;
const [dir, name, tcPath, exe, host] = process.argv.slice(3);
const say = (event, extra = {}) => process.stdout.write(JSON.stringify({ event, ...extra }) + '\\n');
const fs = require('fs');
const parentOf = (n) => {
  const stat = fs.readFileSync('/proc/' + n + '/stat', 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1];
};
// Below the test's process (the window's host): another test run's stand-in is not this one's.
const ours = (n) => {
  for (let p = n; p !== '0' && p !== '1'; p = parentOf(p)) if (p === host) return true;
  return false;
};
// Any process still running this world's proc-macro server, or the stand-in's server of this run.
const alive = () => fs.readdirSync('/proc').filter((n) => /^\\d+$/.test(n)).filter((n) => {
  try {
    const stat = fs.readFileSync('/proc/' + n + '/stat', 'utf8');
    if (/^\\d+ \\(.*\\) [ZX] /.test(stat)) return false;
    const cmd = fs.readFileSync('/proc/' + n + '/cmdline', 'utf8');
    return fs.readlinkSync('/proc/' + n + '/exe') === exe || (cmd.includes('fake-rust-analyzer/dist/server.js') && ours(n));
  } catch { return false; }
}).map(Number);
(async () => {
  say('announcing');
  const lock = await engine.acquireWrite([{ name, path: tcPath }], { lockDir: dir, client: 'test-writer', command: ['rustup', 'update', name] });
  say('acquired', { alive: alive() });
  const rl = require('readline').createInterface({ input: process.stdin });
  rl.on('line', async (l) => {
    if (l === 'check') say('checked', { alive: alive() });
    if (l === 'release') { const still = alive(); await lock.release(); say('released', { alive: still }); process.exit(0); }
  });
})().catch((e) => { say('error', { message: e.message }); process.exit(1); });
`;

/** A writer that, the moment it holds the write lock (and on `check`, and before it lets go), lists the server processes still alive. */
function writer(t, w) {
  const script = path.join(ext.dir, 'checking-writer.cjs');
  if (!fs.existsSync(script)) fs.writeFileSync(script, WRITER);
  const child = spawn(
    process.execPath,
    [script, ext.file, w.lockDir, 'stable', w.stable, w.procMacroSrv, String(process.pid)],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const events = [];
  readline.createInterface({ input: child.stdout }).on('line', (l) => events.push(JSON.parse(l)));
  cleanup(t, () => child.kill('SIGKILL'));
  const next = async (name) => {
    await until(() => events.some((e) => e.event === name), `writer: ${name}`, 30000).catch(
      (err) => {
        throw new Error(
          `${err.message}; writer said ${JSON.stringify(events)}; log:\n${log().join('\n')}`,
        );
      },
    );
    return events.find((e) => e.event === name);
  };
  return { child, events, next, send: (l) => child.stdin.write(`${l}\n`) };
}

/** Starts the stand-in and our extension as a window opening a Cargo folder does; resolves once the server runs under the lock. */
async function steady(t, w) {
  const api = await activateRa(t, w);
  assert.equal(
    api.client,
    undefined,
    'initializeStopped (our configurationDefaults) kept the stand-in from starting its server',
  );
  await activate(t, w);
  await until(
    () =>
      raProcesses(w).procMacro.length === 1 &&
      item()?.text === '$(lock) stable (1)' &&
      logHas('server rust-analyzer started pid='),
    `the server under the lock; log: ${log().join('\n')}`,
  );
  return api;
}

test('startup: the server starts only once the read lock is held (initializeStopped from our configurationDefaults)', async (t) => {
  const w = world(t);
  await steady(t, w);
  assert.deepEqual(w.starts, [1], 'one start, with the read lock held');
  assert.ok(logHas('server rust-analyzer started pid='), log().join('\n'));
});

test('the stop is real: the update starts only once the server and its proc-macro server are gone, and ends them if they hang', async (t) => {
  // The server takes 400 ms to shut down; rust-analyzer's stopServer gives up waiting after 100.
  const w = world(t, { 'rust-analyzer.testShutdownMs': 400 });
  await steady(t, w);
  const before = raProcesses(w).all;
  assert.equal(before.length, 2);
  const wr = writer(t, w);
  const acquired = await wr.next('acquired');
  assert.deepEqual(acquired.alive, [], 'no server process alive when the update starts');
  assert.match(log().join('\n'), /server rust-analyzer stopped in \d+ ms/);
  wr.send('release');
  await until(() => raProcesses(w).procMacro.length === 1, 'restart after the update');
  assert.deepEqual(w.starts, [1, 1]);

  // A server that does not shut down within stopTimeout is ended by us, by pid, before the update runs.
  state.globalConfig['toolchainLock.stopTimeout'] = 300;
  state.globalConfig['rust-analyzer.testShutdownMs'] = 60_000;
  vscode.emitters.config.fire({
    affectsConfiguration: (s) => s === 'toolchainLock' || s === 'toolchainLock.stopTimeout',
  });
  await wr.next('released');
  await until(() => item()?.text === '$(lock) stable (1)', 'steady again');
  // The stand-in reads testShutdownMs at start: restart it so its server hangs.
  await state.commands.get('rust-analyzer.restartServer')();
  await until(() => raProcesses(w).procMacro.length === 1, 'the hanging server');
  const wr2 = writer(t, w);
  const acquired2 = await wr2.next('acquired');
  assert.deepEqual(acquired2.alive, [], 'the hanging server was ended before the update started');
  assert.ok(logHas('did not stop within 300 ms'), log().join('\n'));
  assert.ok(logHas('server rust-analyzer: ending its processes'));
  wr2.send('release');
  await wr2.next('released');
});

test('a restart during the update (the palette, or a settings change with restartServerOnConfigChange) is stopped again at once, with one notification', async (t) => {
  const w = world(t, { 'rust-analyzer.restartServerOnConfigChange': true });
  await steady(t, w);
  const wr = writer(t, w);
  assert.deepEqual((await wr.next('acquired')).alive, []);
  const warnings = () =>
    state.messages.filter(
      (m) =>
        m.kind === 'warning' && /was started while toolchain stable is being updated/.test(m.text),
    );
  // "rust-analyzer: Restart server" from the palette.
  await state.commands.get('rust-analyzer.restartServer')();
  await until(
    () => raProcesses(w).all.length === 0 && logHas('server rust-analyzer stopped in'),
    'the restarted server stopped again',
  );
  assert.ok(
    logHas(
      'server rust-analyzer was started while stable cannot be used (it is being updated by rustup update stable',
    ),
    log().join('\n'),
  );
  assert.equal(warnings().length, 1);
  assert.match(
    warnings()[0].text,
    /^rust-analyzer was started while toolchain stable is being updated by “rustup update stable” \(pid \d+\); Toolchain Lock stopped it again\. It starts when the update finishes\.$/,
  );
  // A settings change that makes it restart itself.
  const spawnedBefore = w.spawned.length;
  state.globalConfig['rust-analyzer.cargo.features'] = ['x'];
  vscode.emitters.config.fire({
    affectsConfiguration: (s) => 'rust-analyzer.cargo.features'.startsWith(s),
  });
  await until(
    () => w.spawned.length > spawnedBefore && raProcesses(w).all.length === 0,
    'the server started by the settings change stopped again',
  );
  assert.equal(warnings().length, 1, 'one notification per update');
  wr.send('check');
  assert.deepEqual((await wr.next('checked')).alive, []);
  wr.send('release');
  await wr.next('released');
  await until(
    () => raProcesses(w).procMacro.length === 1 && item()?.text === '$(lock) stable (1)',
    'back after the update',
  );
});

test("the user's own stop: the read lock goes, the next update does not start it, their start takes the lock again", async (t) => {
  const w = world(t);
  await steady(t, w);
  await state.commands.get('rust-analyzer.stopServer')();
  await until(
    () => raProcesses(w).all.length === 0 && readers(w).length === 0,
    'stopped and the read lock released',
  );
  assert.ok(
    logHas('server rust-analyzer: it was stopped outside Toolchain Lock'),
    log().join('\n'),
  );
  await until(
    () => /rust\\?-analyzer \(stopped\)/.test(item()?.tooltip?.value ?? ''),
    `tooltip says stopped: ${item()?.tooltip?.value}`,
  );
  const wr = writer(t, w);
  await wr.next('acquired');
  wr.send('release');
  await wr.next('released');
  // Given every chance to (wrongly) start it again: the coordinator settles right after a release.
  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual(raProcesses(w).all, [], 'still stopped after the update');
  assert.deepEqual(w.starts, [1]);
  await state.commands.get('rust-analyzer.startServer')();
  await until(
    () => readers(w).length === 1 && raProcesses(w).procMacro.length === 1,
    'their start takes the lock again',
  );
  assert.ok(logHas('server rust-analyzer was started by its extension'));
});

test('a server its extension gave up on ("crashed 5 times … will not be restarted") is shown as failed and its lock released', async (t) => {
  const w = world(t);
  const api = await steady(t, w);
  for (let i = 0; i < 5; i++) {
    const pid = api.client.server.pid;
    process.kill(pid, 'SIGKILL');
    await until(
      () => api.client.server?.pid !== pid && (i === 4 || api.client.state === 2),
      `crash ${i + 1}`,
    );
  }
  await until(() => logHas('server rust-analyzer failed:'), `failure logged: ${log().join('\n')}`);
  assert.ok(logHas('rust-lang.rust-analyzer gave up on it'));
  assert.ok(
    state.messages.some(
      (m) =>
        m.kind === 'error' &&
        /^rust-analyzer is not running on toolchain stable: .*gave up on it/.test(m.text),
    ),
    JSON.stringify(state.messages.map((m) => m.text)),
  );
  await until(
    () => item()?.text === '$(warning) stable' || /failed/.test(item()?.tooltip?.value ?? ''),
    `failed in the status bar: ${item()?.text}`,
  );
  await until(() => readers(w).length === 0, 'lock released');
  assert.equal(
    log().filter((l) => l.includes('server rust-analyzer started')).length,
    1,
    'never logged as started again',
  );
});

test('a window opened during an update runs nothing before it holds the lock; a start meanwhile is stopped and explained', async (t) => {
  const w = world(t);
  const wr = writer(t, w);
  await wr.next('acquired');
  const api = await activateRa(t, w);
  assert.equal(api.client, undefined);
  await activate(t, w);
  await until(
    () => logHas('waiting for the read lock of stable'),
    `waiting; log: ${log().join('\n')}`,
  );
  await state.commands.get('rust-analyzer.startServer')();
  await until(
    () => w.spawned.length === 1 && raProcesses(w).all.length === 0,
    'the user-started server stopped again',
  ).catch((err) => {
    throw new Error(`${err.message}: ${JSON.stringify(raProcesses(w))}; log:\n${log().join('\n')}`);
  });
  assert.ok(
    logHas(
      'server rust-analyzer was started while stable cannot be used (this window waits for its read lock)',
    ),
    log().join('\n'),
  );
  assert.equal(
    state.messages.filter((m) => /was started while toolchain stable is being updated/.test(m.text))
      .length,
    1,
  );
  wr.send('check');
  assert.deepEqual((await wr.next('checked')).alive, []);
  wr.send('release');
  await until(
    () => raProcesses(w).procMacro.length === 1 && readers(w).length === 1,
    'started under the lock after the update',
  );
  assert.deepEqual(w.starts, [0, 1], 'the user’s start (undone) and ours, with the lock');
});

test('a user who set rust-analyzer.initializeStopped themselves starts it themselves', async (t) => {
  const w = world(t, { 'rust-analyzer.initializeStopped': true });
  await activateRa(t, w);
  await activate(t, w);
  await until(() => logHas('servers: rust-analyzer on stable'), 'units built');
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(w.starts, [], 'not started by us');
  assert.equal(readers(w).length, 0, 'no lock taken for a server that does not run');
  await state.commands.get('rust-analyzer.startServer')();
  await until(() => readers(w).length === 1, 'their start takes the lock');
});

test('an extension without that API (a coordinatedExtensions entry): its processes still decide when the stop is done, and a restart during an update is caught', async (t) => {
  const w = world(t, {
    'rust-analyzer.testShutdownMs': 300,
    // An entry of the user's own replaces the preset: no initializeStopped default of ours applies.
    'toolchainLock.coordinatedExtensions': [
      {
        extensionId: 'rust-lang.rust-analyzer',
        stopCommand: 'rust-analyzer.stopServer',
        startCommand: 'rust-analyzer.startServer',
      },
    ],
    'rust-analyzer.initializeStopped': false,
  });
  const api = await activateRa(t, w);
  // Its exports kept from us: all we have is its commands and the process table.
  state.extensions.set('rust-lang.rust-analyzer', {
    id: 'rust-lang.rust-analyzer',
    isActive: true,
    exports: undefined,
  });
  await until(() => raProcesses(w).procMacro.length === 1, 'it started at activation');
  await activate(t, w);
  await until(
    () => readers(w).length === 1,
    `the read lock taken for it; log: ${log().join('\n')}`,
  );
  const wr = writer(t, w);
  assert.deepEqual(
    (await wr.next('acquired')).alive,
    [],
    'no server process alive when the update starts',
  );
  await api.start();
  await until(
    () =>
      raProcesses(w).all.length === 0 &&
      log().filter((l) => l.includes('server rust-analyzer stopped in')).length === 2,
    `the restart caught and stopped; log: ${log().join('\n')}`,
  );
  assert.ok(logHas('server rust-analyzer was started while stable cannot be used'));
  wr.send('release');
  await until(
    () => raProcesses(w).procMacro.length === 1 && readers(w).length === 1,
    'back after the update',
  );
});
