// The rust-analyzer preset against a stand-in of the rust-analyzer extension (same id, commands,
// settings and API shape; test/fixtures/fake-rust-analyzer) whose server runs a toolchain's real
// rust-analyzer-proc-macro-srv as its child: the stop waits for those processes, a restart during an
// update is stopped again, the user's own stop is respected, a give-up is a failure, and nothing
// runs before the read lock is held. Everything but `vscode` is real: processes, locks, the writer.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { after, before, beforeEach, test } from 'node:test';
import { addProcMacroSrv, bundle, bundleFakeRustAnalyzer, contributedDefaults, fakeRustAnalyzerDir, fakeVscodePath, hostTriple, repoRoot, resetFakeVscode, tempDir, until } from './extension-harness.mjs';

const require = createRequire(import.meta.url);
const vscode = require(fakeVscodePath);
const { state } = vscode;

let ext;
let ra;
let buildDir;
before(async () => {
  buildDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tcl-coord-build-'));
  ext = await bundle(buildDir, 'extension', "export * from './src/extension/main';\nexport * as engine from './src/lock/index';", { vscodeFake: fakeVscodePath });
  ra = await bundleFakeRustAnalyzer(buildDir);
});
after(() => fs.rmSync(buildDir, { recursive: true, force: true }));
beforeEach(() => resetFakeVscode(state));

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
  const root = tempDir(t, 'tcl-coord-');
  const rustupHome = path.join(root, 'rustup');
  const stable = path.join(rustupHome, 'toolchains', `stable-${hostTriple}`);
  fs.mkdirSync(path.join(stable, 'bin'), { recursive: true });
  const procMacroSrv = addProcMacroSrv(stable);
  const project = path.join(root, 'proj');
  fs.mkdirSync(project);
  fs.writeFileSync(path.join(project, 'Cargo.toml'), '[package]\nname = "p"\n');
  fs.writeFileSync(path.join(project, 'rust-toolchain.toml'), '[toolchain]\nchannel = "stable"\n');
  const lockDir = path.join(root, 'locks');
  const saved = { RUSTUP_HOME: process.env.RUSTUP_HOME, RUSTUP_TOOLCHAIN: process.env.RUSTUP_TOOLCHAIN };
  process.env.RUSTUP_HOME = rustupHome;
  delete process.env.RUSTUP_TOOLCHAIN;
  t.after(() => Object.assign(process.env, saved));
  Object.assign(state.defaultConfig, contributedDefaults(path.join(fakeRustAnalyzerDir, 'package.json')), contributedDefaults(path.join(repoRoot, 'package.json')));
  Object.assign(state.globalConfig, { 'toolchainLock.lockDir': lockDir, 'rust-analyzer.procMacro.server': procMacroSrv, 'toolchainLock.stopTimeout': 5000 }, settings);
  state.folders = [project];
  const context = (name) => ({ subscriptions: [], extensionPath: repoRoot, globalStorageUri: vscode.Uri.file(path.join(root, name)), environmentVariableCollection: { clear() {}, prepend() {}, replace() {}, append() {} } });
  return { root, stable: fs.realpathSync(stable), procMacroSrv: fs.realpathSync(procMacroSrv), lockDir, context, spawned: [], starts: [] };
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
    if (api.client?.server) w.spawned.push(api.client.server.pid);
  };
  state.extensions.set('rust-lang.rust-analyzer', { id: 'rust-lang.rust-analyzer', isActive: true, exports: api });
  t.after(async () => {
    for (const d of context.subscriptions) d.dispose();
    await until(() => raProcesses(w).all.length === 0, 'the stand-in server to end').catch(() => raProcesses(w).all.forEach((p) => process.kill(p, 'SIGKILL')));
  });
  return api;
}

async function activate(t, w) {
  ext.module.activate(w.context('storage'));
  t.after(() => ext.module.deactivate());
}

const log = () => state.outputs.get('Toolchain Lock')?.lines ?? [];
const logHas = (s) => log().some((l) => l.includes(s));
const item = () => state.statusItems.find((i) => i.id === 'toolchainLock.status');
const readers = (w) => ext.module.engine.status({ lockDir: w.lockDir }).flatMap((s) => s.holders.filter((h) => h.mode === 'read'));

const WRITER = `
const bundled = require(process.argv[2]);
const engine = bundled.engine ?? bundled;
const [dir, name, tcPath, exe] = process.argv.slice(3);
const say = (event, extra = {}) => process.stdout.write(JSON.stringify({ event, ...extra }) + '\\n');
const fs = require('fs');
// Any process still running the toolchain's proc-macro server or the stand-in's server.
const alive = () => fs.readdirSync('/proc').filter((n) => /^\\d+$/.test(n)).filter((n) => {
  try {
    const stat = fs.readFileSync('/proc/' + n + '/stat', 'utf8');
    if (/^\\d+ \\(.*\\) [ZX] /.test(stat)) return false;
    const cmd = fs.readFileSync('/proc/' + n + '/cmdline', 'utf8');
    return fs.readlinkSync('/proc/' + n + '/exe') === exe || cmd.includes('fake-rust-analyzer/dist/server.js');
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
  const script = path.join(buildDir, 'checking-writer.cjs');
  if (!fs.existsSync(script)) fs.writeFileSync(script, WRITER);
  const child = spawn(process.execPath, [script, ext.file, w.lockDir, 'stable', w.stable, w.procMacroSrv], { stdio: ['pipe', 'pipe', 'inherit'] });
  const events = [];
  readline.createInterface({ input: child.stdout }).on('line', (l) => events.push(JSON.parse(l)));
  t.after(() => child.kill('SIGKILL'));
  const next = async (name) => {
    await until(() => events.some((e) => e.event === name), `writer: ${name}`, 30000).catch((err) => {
      throw new Error(`${err.message}; writer said ${JSON.stringify(events)}; log:\n${log().join('\n')}`);
    });
    return events.find((e) => e.event === name);
  };
  return { child, events, next, send: (l) => child.stdin.write(`${l}\n`) };
}

/** Starts the stand-in and our extension as a window opening a Cargo folder does; resolves once the server runs under the lock. */
async function steady(t, w) {
  const api = await activateRa(t, w);
  assert.equal(api.client, undefined, 'initializeStopped (our configurationDefaults) kept the stand-in from starting its server');
  await activate(t, w);
  await until(() => raProcesses(w).procMacro.length === 1 && item()?.text === '$(lock) stable (1)' && logHas('server rust-analyzer started pid='), `the server under the lock; log: ${log().join('\n')}`);
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
  vscode.emitters.config.fire({ affectsConfiguration: (s) => s === 'toolchainLock' || s === 'toolchainLock.stopTimeout' });
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
