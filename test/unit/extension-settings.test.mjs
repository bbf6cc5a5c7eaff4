// Settings changes under the whole extension (fake `vscode`, real lock, real server processes):
// scopes that reach remote windows, reconfiguration one at a time, the terminal environment in
// step with the settings, and servers never stopped by configuration without a word.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import {
  cleanup,
  activateFor,
  ENGINE_EXPORT,
  changed,
  extensionForFile,
  fakeContext,
  fakeServerPath,
  log,
  recordingEnvironment,
  repoRoot,
  tempDir,
  until,
  vscode,
} from './extension-harness.mjs';

const { state } = vscode;

const ext = extensionForFile(
  `export * from './src/extension/main';\nexport { LockCoordinator } from './src/extension/state/coordinator';\n${ENGINE_EXPORT}`,
);

/** A toolchain `demo` with a managed fake server on it, configured in user settings. */
function world(t) {
  const root = tempDir(t);
  const demo = path.join(root, 'demo');
  fs.mkdirSync(demo);
  const lockDir = path.join(root, 'locks');
  const serverLog = path.join(root, 'server.log');
  state.globalConfig['toolchainLock.lockDir'] = lockDir;
  state.globalConfig['toolchainLock.toolchains'] = [
    { name: 'demo', path: demo, updateCommand: ['demo-update', 'v1'] },
  ];
  state.globalConfig['toolchainLock.servers'] = [
    {
      id: 'demo-ls',
      toolchain: 'demo',
      command: process.execPath,
      args: [fakeServerPath],
      env: { FAKE_LS_LOG: serverLog },
    },
  ];
  const env = recordingEnvironment();
  const context = fakeContext(root, { env });
  const readers = () =>
    ext.module.engine
      .status({ lockDir })
      .reduce((n, s) => n + s.holders.filter((h) => h.mode === 'read').length, 0);
  return { root, demo, lockDir, env, context, readers };
}

const activate = (t, w) => activateFor(t, ext, w.context, 'server demo-ls started');

test('servers, coordinated extensions, toolchains and the lock directory reach remote windows from user settings', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
  const props = pkg.contributes.configuration.properties;
  // `machine` and `machine-overridable` settings are not taken from local user settings in a remote window.
  for (const key of ['servers', 'coordinatedExtensions', 'toolchains', 'lockDir'])
    assert.equal(props[`toolchainLock.${key}`].scope, 'window', key);
  assert.deepEqual(pkg.capabilities.untrustedWorkspaces.restrictedConfigurations.sort(), [
    'toolchainLock.coordinatedExtensions',
    'toolchainLock.lockDir',
    'toolchainLock.servers',
    'toolchainLock.toolchains',
  ]);
});

test(
  'two quick lock-directory changes leave one coordinator: one server, one read lock; none after deactivate',
  { timeout: 30000 },
  async (t) => {
    const w = world(t);
    await activate(t, w);
    state.globalConfig['toolchainLock.pollInterval'] = 300;
    changed('toolchainLock.pollInterval');
    state.globalConfig['toolchainLock.pollInterval'] = 400;
    changed('toolchainLock.pollInterval');
    await until(
      () => log().filter((l) => l.includes('server demo-ls started')).length >= 2,
      'restart',
    );
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(w.readers(), 1, log().join('\n'));
    await ext.module.deactivate();
    assert.equal(w.readers(), 0);
  },
);

test(
  'the terminal environment follows every settings change: a new update command reaches TOOLCHAIN_LOCK_TOOLCHAINS',
  { timeout: 30000 },
  async (t) => {
    const w = world(t);
    await activate(t, w);
    const toolchainsEnv = () =>
      JSON.parse(w.env.ops.find(([, k]) => k === 'TOOLCHAIN_LOCK_TOOLCHAINS')?.[2] ?? '[]');
    assert.deepEqual(toolchainsEnv()[0].updateCommand, ['demo-update', 'v1']);
    state.globalConfig['toolchainLock.toolchains'] = [
      { name: 'demo', path: w.demo, updateCommand: ['demo-update', 'v2'] },
    ];
    changed('toolchainLock.toolchains');
    await until(
      () => toolchainsEnv()[0]?.updateCommand?.[1] === 'v2',
      `env: ${JSON.stringify(w.env.ops)}`,
    );
    assert.ok(
      w.env.ops.some(([op, k]) => op === 'prepend' && k === 'PATH'),
      'the CLI stays on PATH',
    );
    assert.deepEqual(
      w.env.ops.find(([, k]) => k === 'TOOLCHAIN_LOCK_DIR'),
      ['replace', 'TOOLCHAIN_LOCK_DIR', w.lockDir],
    );
  },
);

test(
  'a server stopped because the settings no longer name it says so, with a way to the settings',
  { timeout: 30000 },
  async (t) => {
    const w = world(t);
    await activate(t, w);
    delete state.globalConfig['toolchainLock.servers'];
    changed('toolchainLock.servers');
    await until(
      () => state.messages.some((m) => /demo-ls/.test(m.text)),
      `a notification; messages ${JSON.stringify(state.messages)}`,
    );
    const note = state.messages.find((m) => /demo-ls/.test(m.text));
    assert.equal(note.kind, 'warning');
    assert.match(note.text, /stopped demo-ls: toolchainLock\.servers no longer lists it/);
    assert.deepEqual(note.items, ['Open Settings', 'Open log']);
    const opened = [];
    state.commands.set('workbench.action.openSettings', (query) => void opened.push(query));
    note.choose('Open Settings');
    await until(() => opened.length === 1, 'settings opened');
    assert.deepEqual(opened, ['toolchainLock.servers']);
    await until(() => w.readers() === 0, 'read lock let go');
  },
);

test(
  'settings dropped without a change event are noticed and said, not silently obeyed',
  { timeout: 30000 },
  async (t) => {
    const w = world(t);
    await activate(t, w);
    delete state.globalConfig['toolchainLock.servers'];
    await until(
      () => state.messages.some((m) => /stopped demo-ls/.test(m.text)),
      'a notification',
      15000,
    );
  },
);

test(
  'an update command that is a missing file says so, not that PATH lacks it',
  { timeout: 30000 },
  async (t) => {
    const w = world(t);
    const gone = path.join(w.root, 'no-such-dir', 'demo-update');
    state.globalConfig['toolchainLock.toolchains'] = [
      { name: 'demo', path: w.demo, updateCommand: [gone] },
    ];
    await activate(t, w);
    assert.equal(await state.commands.get('toolchainLock.updateToolchain')('demo'), false);
    const err = state.messages.find(
      (m) => m.kind === 'error' && m.text.startsWith('Updating demo failed'),
    );
    assert.equal(
      err?.text,
      `Updating demo failed: Cannot run the update command: ${gone} does not exist.`,
      JSON.stringify(state.messages),
    );
    await until(
      () => log().filter((l) => l.includes('server demo-ls started')).length === 2,
      'servers back',
    );
  },
);

test(
  "other windows name an update by the pid of what it runs, not by the updating window's extension host",
  { timeout: 30000 },
  async (t) => {
    const w = world(t);
    await activate(t, w);
    const quiet = { info() {}, warn() {}, error() {} };
    const other = new ext.module.LockCoordinator({
      lockDir: w.lockDir,
      pollIntervalMs: 200,
      stopTimeoutMs: () => 1000,
      log: quiet,
      client: 'vscode',
      command: ['Other Code window', 'other'],
    });
    cleanup(t, () => other.dispose());
    let child;
    let finish;
    const finished = new Promise((resolve) => (finish = resolve));
    const update = other.update(
      { name: 'demo', path: w.demo },
      async (lock) => {
        child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
        lock.addChild(child.pid);
        await finished;
        child.kill();
      },
      { command: ['demo-update', 'v1'], purpose: 'update from Other Code' },
    );
    await until(() => child !== undefined, 'the update runs');
    await until(
      () => state.messages.some((m) => /is being updated/.test(m.text)),
      'the step-aside notification',
    );
    const note = state.messages.find((m) => /is being updated/.test(m.text));
    assert.equal(
      note.text,
      'Toolchain demo is being updated by “demo-update v1” (update from Other Code); demo-ls will restart when it finishes',
    );
    const item = () => state.statusItems.find((i) => i.id === 'toolchainLock.status');
    await until(() => item().text.includes(`pid ${child.pid}`), `status bar: ${item().text}`);
    // The Locks view names the process doing the update, as the status bar does.
    const rows = () => state.treeViews.get('toolchainLock.locks').provider.getChildren();
    await until(
      () =>
        rows()[0]?.children.some(
          (c) => c.context.includes('writer') && c.description.includes(`pid ${child.pid}`),
        ),
      `view: ${JSON.stringify(rows())}`,
    );
    assert.ok(!item().text.includes(`pid ${process.pid}`), item().text);
    finish();
    await update;
  },
);

test(
  'a configured toolchain path that is a symlink an A/B update flips: one lock across the flip, the server restarts from the new target',
  { timeout: 30000 },
  async (t) => {
    const w = world(t);
    const targets = ['llvm-14', 'llvm-15'].map((name) => {
      const dir = path.join(w.root, name);
      fs.mkdirSync(path.join(dir, 'bin'), { recursive: true });
      // Node runs a script from its real path: the server says which target it started from.
      fs.writeFileSync(
        path.join(dir, 'bin', 'server.cjs'),
        `require('fs').appendFileSync(process.env.FAKE_LS_LOG, process.pid + ' from ' + __filename + '\\n');\nrequire(${JSON.stringify(fakeServerPath)});\n`,
      );
      return dir;
    });
    const current = path.join(w.root, 'current');
    fs.symlinkSync(targets[0], current);
    const flip = [
      process.execPath,
      '-e',
      `const fs = require('fs'); fs.symlinkSync(${JSON.stringify(targets[1])}, ${JSON.stringify(`${current}.next`)}); fs.renameSync(${JSON.stringify(`${current}.next`)}, ${JSON.stringify(current)});`,
    ];
    const serverLog = path.join(w.root, 'server.log');
    state.globalConfig['toolchainLock.toolchains'] = [
      { name: 'llvm', path: current, updateCommand: flip },
    ];
    state.globalConfig['toolchainLock.servers'] = [
      {
        id: 'demo-ls',
        toolchain: 'llvm',
        command: process.execPath,
        args: ['${toolchainPath}/bin/server.cjs'],
        env: { FAKE_LS_LOG: serverLog },
      },
    ];
    await activate(t, w);
    const key = ext.module.engine.toolchainKey(current);
    const ownReaders = (tc) =>
      ext.module.engine
        .status({ lockDir: w.lockDir, toolchains: [{ name: 'x', path: tc }] })[0]
        .holders.filter((h) => h.self && h.state === 'held').length;
    const startedFrom = () =>
      [...fs.readFileSync(serverLog, 'utf8').matchAll(/^\d+ from (.*)$/gm)].map((m) =>
        path.dirname(path.dirname(m[1])),
      );
    assert.deepEqual(startedFrom(), [fs.realpathSync(targets[0])]);
    assert.equal(ownReaders(current), 1, 'the window reads the link');

    assert.equal(await state.commands.get('toolchainLock.updateToolchain')('llvm'), true);
    await until(
      () => log().filter((l) => l.includes('server demo-ls started')).length === 2,
      `restart; log: ${log().join('\n')}`,
    );
    assert.deepEqual(
      startedFrom(),
      [fs.realpathSync(targets[0]), fs.realpathSync(targets[1])],
      'the restart runs the new target',
    );
    assert.equal(ext.module.engine.toolchainKey(current), key, 'one key across the flip');
    assert.equal(ownReaders(current), 1, 'the window holds the same lock again');
    assert.equal(ownReaders(targets[1]), 0, 'and not one of the new target');
  },
);
