// The extension on rustup's own paths (issue 12 item 7), under a fake `vscode` with everything else
// real: the lock, the toolchain resolver, a managed LSP server process, and a stand-in `rustup` on
// PATH (test/fixtures/fake-rustup.mjs) that records its arguments and what `status --json` shows
// while it runs. "Update toolchain safely" takes exactly the locks `toolchain-lock rustup` takes.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import { cli, FIXTURES } from '../fixtures/cli-harness.mjs';
import { bundle, fakeServerPath, fakeVscodePath, repoRoot, tempDir, until } from './extension-harness.mjs';

const require = createRequire(import.meta.url);
const vscode = require(fakeVscodePath);
const { state } = vscode;
const triple = `${{ x64: 'x86_64', arm64: 'aarch64' }[process.arch]}-${{ linux: 'unknown-linux-gnu', darwin: 'apple-darwin' }[process.platform]}`;
const full = (n) => `${n}-${triple}`;

let ext;
let buildDir;
before(async () => {
  buildDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tcl-ext-build-'));
  ext = await bundle(buildDir, 'extension', "export * from './src/extension/main';\nexport * as engine from './src/lock/index';", { vscodeFake: fakeVscodePath });
});
after(() => fs.rmSync(buildDir, { recursive: true, force: true }));

beforeEach(() => {
  state.commands.clear();
  state.executed.length = 0;
  state.statusItems.length = 0;
  state.messages.length = 0;
  state.progress.length = 0;
  state.outputs.clear();
  state.config = {};
  state.globalConfig = {};
  state.trusted = true;
  state.folders = [];
  state.extensions.clear();
  state.quickPick = null;
});

const ENV_KEYS = ['RUSTUP_HOME', 'RUSTUP_TOOLCHAIN', 'PATH', 'TOOLCHAIN_LOCK_DIR', 'FAKE_RUSTUP_LOG', 'FAKE_RUSTUP_HOST', 'FAKE_RUSTUP_EXIT', 'FAKE_RUSTUP_ERROR', 'FAKE_RUSTUP_HANG'];

/**
 * A rustup home with stable (the default) and nightly, a folder pinned to `pin` by its
 * rust-toolchain.toml, a managed server (user settings, no "toolchain": the folder's), and the
 * stand-in rustup first on PATH. The lock directory is set in the settings only: whatever the
 * stand-in's `status --json` sees, it sees because the extension passed that directory on.
 */
function world(t, { pin = '1.80.0' } = {}) {
  const root = tempDir(t);
  const rustupHome = path.join(root, 'rustup');
  for (const n of ['stable', 'nightly']) fs.mkdirSync(path.join(rustupHome, 'toolchains', full(n), 'bin'), { recursive: true });
  fs.writeFileSync(path.join(rustupHome, 'settings.toml'), `default_host_triple = "${triple}"\ndefault_toolchain = "${full('stable')}"\n`);
  const project = path.join(root, 'proj');
  fs.mkdirSync(project);
  fs.writeFileSync(path.join(project, 'rust-toolchain.toml'), `[toolchain]\nchannel = "${pin}"\n`);
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

const log = () => state.outputs.get('Toolchain Lock')?.lines ?? [];
const logHas = (s) => log().some((l) => l.includes(s));
const starts = () => log().filter((l) => l.includes('server fake-ls started pid=')).length;
const findMessage = (re) => state.messages.find((m) => re.test(m.text));
const command = (id) => state.commands.get(id);

function activate(t, w) {
  ext.module.activate(w.context);
  t.after(() => ext.module.deactivate());
}

async function offerOf(re) {
  await until(() => findMessage(re), `a notification matching ${re}; messages: ${JSON.stringify(state.messages.map((m) => m.text))}\nlog:\n${log().join('\n')}`);
  return findMessage(re);
}

test('"Update toolchain safely" of a rustup toolchain takes exactly the locks of `toolchain-lock rustup update`', async (t) => {
  const w = world(t, { pin: 'stable' });
  state.globalConfig['toolchainLock.toolchains'] = [{ name: 'everything', rustup: 'stable', updateCommand: ['rustup', 'update'] }];
  activate(t, w);
  await until(() => starts() === 1, `server on stable; log:\n${log().join('\n')}`);

  const compare = async (name, rustupArgs) => {
    assert.equal(await command('toolchainLock.updateToolchain')(name), true, `update ${name}`);
    const [fromExtension, ...more] = w.calls();
    assert.deepEqual(more, []);
    const r = await cli(['rustup', ...rustupArgs], { env: w.env(), cwd: w.project });
    assert.equal(r.code, 0, r.stderr);
    const [fromCli] = w.calls();
    assert.deepEqual(fromExtension.args, fromCli.args, `${name}: the same rustup command`);
    const keys = (call) => call.locks.map((l) => `${l.key} ${l.state}`).sort();
    assert.deepEqual(keys(fromExtension), keys(fromCli), `${name}: the same locks as toolchain-lock rustup ${rustupArgs.join(' ')}`);
    return fromExtension;
  };
  const one = await compare('stable', ['update', full('stable')]);
  assert.deepEqual(one.locks.map((l) => [l.key, l.state]), [[w.keyOf('stable'), 'write']]);
  // A configured update command that is a rustup command changing more than the toolchain picked:
  // every toolchain it changes is locked, as the wrapper would.
  const all = await compare('everything', ['update']);
  assert.deepEqual(all.locks.map((l) => l.key).sort(), [w.keyOf('nightly'), w.keyOf('stable')].sort());
  await until(() => starts() === 4, 'the server restarts after each update (two from here, two from the CLI)');
});
