// The extension on rustup's own paths (issue 12 item 7), under a fake `vscode` with everything else
// real: the lock, the toolchain resolver, a managed LSP server process, and the real rustup on the
// test bed (test/fixtures/rustup-testbed.mjs), its dist served over HTTP so the test sees the locks
// while rustup downloads, can fail a download, or hold one. "Update toolchain safely" takes exactly
// the locks `toolchain-lock rustup` takes; a pinned toolchain that is not installed is offered for
// install, under its write lock. A stand-in `rustup` (test/fixtures/fake-rustup.mjs, which records
// its arguments and what `status --json` shows) stays where the real one cannot: the exact install
// command line with components and targets the local dist does not have, and names rustup has no
// channel for.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import { cli, FIXTURES } from '../fixtures/cli-harness.mjs';
import { rustupSource, rustupTestbed } from '../fixtures/rustup-testbed.mjs';
import { bundle, fakeServerPath, fakeVscodePath, repoRoot, tempDir, until, hostTriple, resetFakeVscode } from './extension-harness.mjs';

const require = createRequire(import.meta.url);
const vscode = require(fakeVscodePath);
const { state } = vscode;
const triple = hostTriple;
const full = (n) => `${n}-${triple}`;

let ext;
let buildDir;
before(async () => {
  buildDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tcl-ext-build-'));
  ext = await bundle(buildDir, 'extension', "export * from './src/extension/main';\nexport * as engine from './src/lock/index';", { vscodeFake: fakeVscodePath });
});
after(() => fs.rmSync(buildDir, { recursive: true, force: true }));

beforeEach(() => resetFakeVscode(state));

const ENV_KEYS = ['RUSTUP_HOME', 'RUSTUP_TOOLCHAIN', 'PATH', 'TOOLCHAIN_LOCK_DIR', 'FAKE_RUSTUP_LOG', 'FAKE_RUSTUP_HOST', 'FAKE_RUSTUP_EXIT', 'FAKE_RUSTUP_ERROR', 'FAKE_RUSTUP_HANG'];

/**
 * A rustup home with stable (the default) and nightly, a folder pinned to `pin` by its
 * rust-toolchain.toml, a managed server (user settings, no "toolchain": the folder's), and the
 * stand-in rustup first on PATH. The lock directory is set in the settings only: whatever the
 * stand-in's `status --json` sees, it sees because the extension passed that directory on.
 */
function world(t, { pin = '1.80.0', toml = '' } = {}) {
  const root = tempDir(t);
  const rustupHome = path.join(root, 'rustup');
  for (const n of ['stable', 'nightly']) fs.mkdirSync(path.join(rustupHome, 'toolchains', full(n), 'bin'), { recursive: true });
  fs.writeFileSync(path.join(rustupHome, 'settings.toml'), `default_host_triple = "${triple}"\ndefault_toolchain = "${full('stable')}"\n`);
  const project = path.join(root, 'proj');
  fs.mkdirSync(project);
  fs.writeFileSync(path.join(project, 'rust-toolchain.toml'), `[toolchain]\nchannel = "${pin}"\n${toml}`);
  const bin = path.join(root, 'bin');
  fs.mkdirSync(bin);
  fs.writeFileSync(path.join(bin, 'rustup'), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(path.join(FIXTURES, 'fake-rustup.mjs'))} "$@"\n`, { mode: 0o755 });
  const rustupLog = path.join(root, 'rustup.log');
  const lockDir = path.join(root, 'locks');
  const serverLog = path.join(root, 'server.log');

  const saved = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));
  t.after(() => {
    for (const [k, v] of Object.entries(saved)) v === undefined ? delete process.env[k] : (process.env[k] = v);
  });
  for (const k of ENV_KEYS) delete process.env[k];
  Object.assign(process.env, { RUSTUP_HOME: rustupHome, PATH: `${bin}${path.delimiter}${saved.PATH}`, FAKE_RUSTUP_LOG: rustupLog, FAKE_RUSTUP_HOST: triple });

  state.globalConfig['toolchainLock.lockDir'] = lockDir;
  state.globalConfig['toolchainLock.servers'] = [{ id: 'fake-ls', command: process.execPath, args: [fakeServerPath], env: { FAKE_LS_LOG: serverLog }, documentSelector: [{ language: 'plaintext' }] }];
  state.folders = [project];
  const context = { subscriptions: [], extensionPath: repoRoot, globalStorageUri: vscode.Uri.file(path.join(root, 'storage')), environmentVariableCollection: { clear() {}, prepend() {}, replace() {}, append() {} } };
  /** The stand-in's records since the last call. */
  const calls = () => {
    const text = fs.existsSync(rustupLog) ? fs.readFileSync(rustupLog, 'utf8') : '';
    fs.rmSync(rustupLog, { force: true });
    return text.split('\n').filter(Boolean).map((l) => JSON.parse(l));
  };
  const dirOf = (n) => path.join(rustupHome, 'toolchains', full(n));
  const keyOf = (n) => ext.module.engine.toolchainKey(ext.module.engine.canonicalToolchainPath(dirOf(n)));
  const lockOf = (n) => ext.module.engine.status({ lockDir, toolchains: [{ name: n, path: dirOf(n) }] })[0];
  return { root, rustupHome, project, lockDir, rustupLog, context, calls, dirOf, keyOf, lockOf, env: () => ({ ...process.env, TOOLCHAIN_LOCK_DIR: lockDir }) };
}

const BED_KEYS = ['CARGO_HOME', 'RUSTUP_DIST_SERVER', 'RUSTUP_UPDATE_ROOT', 'RUSTUP_TERM_COLOR', 'CARGO_TERM_COLOR', 'CARGO_NET_OFFLINE', 'NO_PROXY', 'no_proxy', 'RUSTUP_AUTO_INSTALL'];

/**
 * world() with the real rustup: a bed (stable installed, the default) whose dist is served over
 * HTTP, its environment in process.env for the extension. `locksAt(channel)` are the locks (key,
 * mode) the lock directory showed when rustup asked for that channel's manifest; `hold(channel)`
 * keeps that request pending until `release()`; `fail(channel)` answers it 404 once. Null (the test
 * skipped) without rustup.
 */
async function realWorld(t, options = {}) {
  if (rustupSource() === null) {
    console.log('skipped: no rustup');
    t.skip('no rustup');
    return null;
  }
  const bed = await rustupTestbed();
  t.after(() => bed.cleanup());
  const w = world(t, options);
  const seen = new Map();
  const holds = new Map();
  const failing = new Set();
  const manifest = (channel) => `/dist/channel-rust-${channel}.toml.sha256`;
  const served = await bed.serve({
    onRequest: async (p) => {
      const channel = /^\/dist\/channel-rust-(.+)\.toml\.sha256$/.exec(p)?.[1];
      if (channel === undefined) return undefined;
      seen.set(channel, ext.module.engine.status({ lockDir: w.lockDir }).filter((l) => l.state !== 'free').map((l) => [l.key, l.state]));
      if (failing.delete(channel)) return 404;
      await holds.get(channel)?.promise;
      return undefined;
    },
  });
  t.after(() => served.close());
  const saved = Object.fromEntries(BED_KEYS.map((k) => [k, process.env[k]]));
  t.after(() => {
    for (const [k, v] of Object.entries(saved)) v === undefined ? delete process.env[k] : (process.env[k] = v);
  });
  for (const k of [...ENV_KEYS, ...BED_KEYS]) if (k !== 'TOOLCHAIN_LOCK_DIR') delete process.env[k];
  for (const k of ['PATH', 'RUSTUP_HOME', ...BED_KEYS]) if (served.env[k] !== undefined) process.env[k] = served.env[k];
  // Report, never install behind the extension's back (a proxy call of a missing toolchain).
  process.env.RUSTUP_AUTO_INSTALL = '0';
  const dirOf = (n) => bed.toolchainDir(n);
  const keyOf = (n) => ext.module.engine.toolchainKey(ext.module.engine.canonicalToolchainPath(dirOf(n)));
  const lockOf = (n) => ext.module.engine.status({ lockDir: w.lockDir, toolchains: [{ name: n, path: dirOf(n) }] })[0];
  return {
    ...w,
    bed,
    served,
    rustupHome: bed.rustupHome,
    dirOf,
    keyOf,
    lockOf,
    locksAt: (channel) => seen.get(channel),
    asked: (channel) => served.requests.includes(manifest(channel)),
    hold(channel) {
      let release;
      const promise = new Promise((resolve) => (release = resolve));
      holds.set(channel, { promise });
      return () => release();
    },
    fail: (channel) => failing.add(channel),
  };
}

const log = () => state.outputs.get('Toolchain Lock')?.lines ?? [];
const logHas = (s) => log().some((l) => l.includes(s));
const starts = () => log().filter((l) => l.includes('server fake-ls started pid=')).length;
const findMessage = (re) => state.messages.find((m) => re.test(m.text));
const command = (id) => state.commands.get(id);

function activate(t, w) {
  ext.module.activate(w.context);
  t.after(() => ext.module.deactivate());
}

async function offerOf(re, timeout) {
  await until(() => findMessage(re), `a notification matching ${re}; messages: ${JSON.stringify(state.messages.map((m) => m.text))}\nlog:\n${log().join('\n')}`, timeout);
  return findMessage(re);
}

test('"Update toolchain safely" of a rustup toolchain takes exactly the locks of `toolchain-lock rustup update` (real rustup)', async (t) => {
  const w = await realWorld(t, { pin: 'stable' });
  if (!w) return;
  await w.bed.install('nightly');
  state.globalConfig['toolchainLock.toolchains'] = [{ name: 'everything', rustup: 'stable', updateCommand: ['rustup', 'update'] }];
  activate(t, w);
  await until(() => starts() === 1, `server on stable; log:\n${log().join('\n')}`);

  const sorted = (locks) => [...locks].map((l) => l.join(' ')).sort();
  const compare = async (name, rustupArgs, channels) => {
    assert.equal(await command('toolchainLock.updateToolchain')(name), true, `update ${name}`);
    const fromExtension = channels.map((c) => sorted(w.locksAt(c)));
    const r = await cli(['rustup', ...rustupArgs], { env: w.env(), cwd: w.project });
    assert.equal(r.code, 0, r.stderr);
    const fromCli = channels.map((c) => sorted(w.locksAt(c)));
    assert.deepEqual(fromExtension, fromCli, `${name}: the same locks as toolchain-lock rustup ${rustupArgs.join(' ')}`);
    return fromExtension;
  };
  w.bed.publish(2);
  const [one] = await compare('stable', ['update', full('stable')], ['stable']);
  assert.deepEqual(one, [`${w.keyOf('stable')} write`]);
  assert.match(w.bed.marker('stable'), /release 2 /, 'the real rustup updated it');
  // A configured update command that is a rustup command changing more than the toolchain picked:
  // every toolchain it changes is locked, as the wrapper would.
  const all = await compare('everything', ['update'], ['stable', 'nightly']);
  const both = [`${w.keyOf('nightly')} write`, `${w.keyOf('stable')} write`];
  assert.deepEqual(all, [both, both]);
  await until(() => starts() === 4, 'the server restarts after each update (two from here, two from the CLI)');
});

test('a pinned toolchain that is not installed is offered for install; it installs under its write lock and the server starts (real rustup)', async (t) => {
  const w = await realWorld(t, { pin: 'beta' });
  if (!w) return;
  activate(t, w);
  const offer = await offerOf(/^Toolchain beta is not installed/);
  assert.equal(offer.text, `Toolchain beta is not installed: rust-toolchain.toml in ${w.project} pins it, and fake-ls needs it.`);
  assert.equal(offer.kind, 'warning');
  assert.deepEqual(offer.items, ['Install toolchain', 'Open log']);
  assert.equal(findMessage(/is not running/), undefined, 'not reported as a generic failure too');
  assert.ok(logHas(`does not exist`), 'the log still says why the server did not start');
  const key = w.keyOf('beta');

  offer.choose('Install toolchain');
  await until(() => starts() === 1, `server starts after the install; log:\n${log().join('\n')}`, 120_000);
  assert.deepEqual(w.locksAt('beta'), [[key, 'write']], 'rustup downloaded under the write lock of the toolchain it installs');
  assert.ok(fs.existsSync(path.join(w.dirOf('beta'), 'bin', 'rustc')), 'the real rustup installed it');
  assert.equal(ext.module.engine.toolchainKey(fs.realpathSync(w.dirOf('beta'))), key, 'the same key once it exists');

  const progress = state.progress.find((p) => p.options.title === 'Installing beta');
  assert.ok(progress, JSON.stringify(state.progress.map((p) => p.options.title)));
  assert.equal(progress.options.cancellable, true);
  assert.match(state.outputs.get('Toolchain Lock Update').text, /syncing channel updates/);
  // Its output is the update log "Open the last update's output" opens.
  const shown = [];
  const showTextDocument = vscode.window.showTextDocument;
  vscode.window.showTextDocument = async (uri) => void shown.push(uri.fsPath);
  t.after(() => (vscode.window.showTextDocument = showTextDocument));
  await command('toolchainLock.openUpdateLog')();
  assert.equal(shown.length, 1);
  assert.match(fs.readFileSync(shown[0], 'utf8'), /syncing channel updates for beta-/);

  await until(() => w.lockOf('beta').holders.length === 1, 'the server holds the read lock');
  const lock = w.lockOf('beta');
  assert.equal(lock.writer, null);
  assert.equal(lock.holders[0].mode, 'read');
  assert.equal(state.messages.filter((m) => /is not installed/.test(m.text)).length, 1, 'offered once');
});

test('a failed install says why, offers the output and leaves no lock; the palette command tries again (real rustup, a download answered 404)', async (t) => {
  const w = await realWorld(t, { pin: 'beta' });
  if (!w) return;
  w.fail('beta');
  // As many Rust developers have it: rustup then prints a backtrace after its `error:` line.
  const backtrace = process.env.RUST_BACKTRACE;
  process.env.RUST_BACKTRACE = '1';
  t.after(() => (backtrace === undefined ? delete process.env.RUST_BACKTRACE : (process.env.RUST_BACKTRACE = backtrace)));
  activate(t, w);
  (await offerOf(/^Toolchain beta is not installed/)).choose('Install toolchain');
  const failed = await offerOf(/^Installing beta failed/, 120_000);
  assert.equal(failed.kind, 'error');
  assert.match(failed.text, /rustup toolchain install beta-\S+ failed \(exit status 1\)/);
  // rustup's reason for a manifest answered 404, not the last lines of its backtrace.
  assert.match(failed.text, /\(exit status 1\)\. error: no release found for 'beta'$/, 'rustup’s own reason');
  assert.deepEqual(failed.items, ['Show output']);
  const lock = w.lockOf('beta');
  assert.deepEqual([lock.holders, lock.writer, lock.waiting], [[], null, []], 'no lock left');
  assert.equal(starts(), 0);
  assert.equal(fs.existsSync(w.dirOf('beta')), false);

  assert.equal(await command('toolchainLock.installToolchain')(), true);
  await until(() => starts() === 1, 'server starts after the second install', 120_000);
  assert.deepEqual(w.locksAt('beta'), [[w.keyOf('beta'), 'write']]);
  // Nothing is missing any more: the command says so and runs nothing.
  const asked = w.served.requests.length;
  assert.equal(await command('toolchainLock.installToolchain')(), false);
  assert.ok(findMessage(/^No toolchain this window needs is missing/), JSON.stringify(state.messages.map((m) => m.text)));
  assert.equal(w.served.requests.length, asked, 'rustup asked for nothing');
});

test('cancelling an install stops rustup and leaves no lock (real rustup, held mid-download)', async (t) => {
  const w = await realWorld(t, { pin: 'beta' });
  if (!w) return;
  const release = w.hold('beta');
  t.after(release);
  activate(t, w);
  await offerOf(/^Toolchain beta is not installed/);
  const installing = command('toolchainLock.installToolchain')('beta');
  await until(() => w.asked('beta'), 'rustup asks for the manifest', 60_000);
  assert.deepEqual(w.locksAt('beta'), [[w.keyOf('beta'), 'write']]);
  state.progress.find((p) => p.options.title === 'Installing beta').cancel();
  assert.equal(await installing, false);
  assert.ok(findMessage(/^Install of beta cancelled/), JSON.stringify(state.messages.map((m) => m.text)));
  const lock = w.lockOf('beta');
  assert.deepEqual([lock.holders, lock.writer, lock.waiting], [[], null, []], 'no lock left');
  assert.equal(fs.existsSync(w.dirOf('beta')), false);
  assert.equal(starts(), 0);
});

test('untrusted workspace: a toolchain its rust-toolchain.toml names is not installed from here until the workspace is trusted', async (t) => {
  const w = world(t);
  state.trusted = false;
  activate(t, w);
  const offer = await offerOf(/^Toolchain 1\.80\.0 is not installed/);
  assert.match(offer.text, /untrusted/);
  assert.deepEqual(offer.items, ['Manage Workspace Trust', 'Open log']);
  offer.choose('Manage Workspace Trust');
  await until(() => state.executed.includes('workbench.trust.manage'), 'trust management opened');
  assert.equal(await command('toolchainLock.installToolchain')(), false);
  assert.ok(state.messages.some((m) => m.kind === 'error' && /untrusted/.test(m.text) && m !== offer), JSON.stringify(state.messages.map((m) => m.text)));
  assert.deepEqual(w.calls(), [], 'rustup never ran');

  state.trusted = true;
  vscode.emitters.trust.fire();
  const trusted = await offerOf(/^Toolchain 1\.80\.0 is not installed: rust-toolchain.toml in .* pins it, and fake-ls needs it\.$/);
  assert.deepEqual(trusted.items, ['Install toolchain', 'Open log']);
  trusted.choose('Install toolchain');
  await until(() => starts() === 1, 'server starts once trusted and installed');
});

test('a pinned name rustup cannot install is reported as such, without an install offer', async (t) => {
  const w = world(t, { pin: 'my-custom' });
  activate(t, w);
  const offer = await offerOf(/^Toolchain my-custom is not installed/);
  assert.match(offer.text, /rustup cannot install it by name/);
  assert.deepEqual(offer.items, ['Open log']);
  assert.equal(await command('toolchainLock.installToolchain')('my-custom'), false);
  assert.deepEqual(w.calls(), []);
});

test('rust-analyzer on a pinned toolchain that is not installed: the same offer; the install restarts it', async (t) => {
  const w = world(t);
  delete state.globalConfig['toolchainLock.servers'];
  fs.writeFileSync(path.join(w.project, 'Cargo.toml'), '[package]\nname = "p"\n');
  const ra = [];
  state.extensions.set('rust-lang.rust-analyzer', { id: 'rust-lang.rust-analyzer', isActive: true });
  state.commands.set('rust-analyzer.stopServer', async () => void ra.push('stop'));
  state.commands.set('rust-analyzer.startServer', async () => void ra.push('start'));
  activate(t, w);
  const offer = await offerOf(/^Toolchain 1\.80\.0 is not installed/);
  assert.equal(offer.text, `Toolchain 1.80.0 is not installed: rust-toolchain.toml in ${w.project} pins it, and rust-analyzer needs it.`);
  offer.choose('Install toolchain');
  await until(() => ra.join() === 'stop,start', `rust-analyzer stopped for the install and started after: ${ra}`);
  const [call] = w.calls();
  assert.deepEqual(call.locks.map((l) => [l.key, l.state]), [[w.keyOf('1.80.0'), 'write']]);
  await until(() => w.lockOf('1.80.0').holders.length === 1, 'its read lock is taken back');
});

test('the install brings what rust-toolchain.toml asks for besides the channel; nothing it says becomes an option', async (t) => {
  const w = world(t, { toml: 'profile = "minimal"\ncomponents = ["rustfmt", "clippy", "--help"]\ntargets = ["wasm32-unknown-unknown"]\n' });
  activate(t, w);
  (await offerOf(/^Toolchain 1\.80\.0 is not installed/)).choose('Install toolchain');
  await until(() => starts() === 1, `server starts after the install; log:\n${log().join('\n')}`);
  const [call] = w.calls();
  // The name first: rustup's --component and --target take every value after them.
  assert.deepEqual(call.args, ['toolchain', 'install', full('1.80.0'), '--profile', 'minimal', '--component', 'rustfmt,clippy', '--target', 'wasm32-unknown-unknown']);
  assert.deepEqual(call.locks.map((l) => [l.key, l.state]), [[w.keyOf('1.80.0'), 'write']], 'still exactly the lock of the toolchain it installs');
  assert.ok(logHas('asks for "--help", which rustup does not name that way: left out of the install'), log().join('\n'));
});

test('a server whose "toolchain" setting names a rustup toolchain that is not installed gets the same offer', async (t) => {
  const w = world(t, { pin: 'stable' });
  state.globalConfig['toolchainLock.servers'][0].toolchain = '1.81.0';
  activate(t, w);
  const offer = await offerOf(/^Toolchain 1\.81\.0 is not installed/);
  assert.equal(offer.text, 'Toolchain 1.81.0 is not installed: the toolchainLock settings name it, and fake-ls needs it.');
  assert.deepEqual(offer.items, ['Install toolchain', 'Open log']);
  assert.equal(findMessage(/Unknown toolchain/), undefined, JSON.stringify(state.messages.map((m) => m.text)));
  offer.choose('Install toolchain');
  await until(() => starts() === 1, `server starts after the install; log:\n${log().join('\n')}`);
  const [call] = w.calls();
  assert.deepEqual(call.args, ['toolchain', 'install', full('1.81.0')]);
  assert.deepEqual(call.locks.map((l) => [l.key, l.state]), [[w.keyOf('1.81.0'), 'write']]);
});
