// Built-in presets beyond rust-analyzer, against fake extensions with the real ones' shapes:
// - vscode-clangd (llvm-vs-code-extensions.vscode-clangd): its `activate` returns
//   { getApi(1): { languageClient } } (clangd/vscode-clangd src/api.ts); the client is a
//   vscode-languageclient client with stop()/start() and `state` (2 = Running). Its toolchain is the
//   one around `clangd.path`.
// - vscode-go (golang.go): only `go.languageserver.restart`; its toolchain is `go env GOROOT`. The
//   machine has no Go, so a stand-in `go` on PATH answers `go env GOROOT` (and only that).
// The lock, the writer processes and the rustup home are real.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import {
  activateFor,
  extensionForFile,
  repoRoot,
  setEnv,
  spawnWriter,
  until,
  vscode,
  windowWorld,
} from './extension-harness.mjs';

const { state } = vscode;

const ext = extensionForFile();

function world(t) {
  const w = windowWorld(t);
  setEnv(t, { RUSTUP_HOME: path.join(w.root, 'rustup'), PATH: process.env.PATH });
  return w;
}

const rows = () => state.treeViews.get('toolchainLock.locks')?.provider.getChildren() ?? [];

const activate = (t, w, what) => activateFor(t, ext, w.context, what);

/** A fake vscode-clangd: the API shape of clangd/vscode-clangd's ClangdExtension. */
function fakeClangd() {
  const calls = [];
  const client = {
    state: 2,
    async stop() {
      calls.push('stop');
      client.state = 1;
    },
    async start() {
      calls.push('start');
      client.state = 2;
    },
  };
  const exports = {
    getApi(version) {
      if (version === 1) return { languageClient: client };
      throw new Error(`No API version ${version} found`);
    },
  };
  state.extensions.set('llvm-vs-code-extensions.vscode-clangd', {
    id: 'llvm-vs-code-extensions.vscode-clangd',
    isActive: true,
    exports,
  });
  return { calls, client };
}

test('vscode-clangd: no setup; the toolchain around clangd.path is read-locked; an update stops and starts its exported client', async (t) => {
  const w = world(t);
  const llvm = path.join(w.root, 'llvm-18');
  fs.mkdirSync(path.join(llvm, 'bin'), { recursive: true });
  fs.writeFileSync(path.join(llvm, 'bin', 'clangd'), '');
  state.globalConfig['clangd.path'] = path.join(llvm, 'bin', 'clangd');
  const clangd = fakeClangd();
  await activate(t, w, 'read lock acquired llvm-18');
  const [held] = ext.module.engine.status({ lockDir: w.lockDir });
  assert.equal(held.toolchain.path, llvm);
  assert.equal(held.holders.length, 1);
  const writer = spawnWriter(t, ext.file, w.lockDir, { name: 'llvm-18', path: llvm });
  await writer.next('acquired');
  assert.deepEqual(clangd.calls, ['stop'], 'stopped before the writer got the lock');
  await until(
    () => state.messages.some((m) => /vscode-clangd will restart when it finishes$/.test(m.text)),
    `notification: ${JSON.stringify(state.messages.map((m) => m.text))}`,
  );
  writer.release();
  await until(() => clangd.calls.length === 2, 'started again');
  assert.deepEqual(clangd.calls, ['stop', 'start']);
  assert.equal(clangd.client.state, 2);
});

test('vscode-go: restart only; gopls keeps running during the update (said in the view and the notification), restarted after it', async (t) => {
  const w = world(t);
  const goroot = path.join(w.root, 'go');
  fs.mkdirSync(path.join(goroot, 'bin'), { recursive: true });
  // Stand-in: this machine has no Go; the preset asks only `go env GOROOT`.
  const bin = path.join(w.root, 'bin');
  fs.mkdirSync(bin);
  fs.writeFileSync(
    path.join(bin, 'go'),
    `#!/bin/sh\n[ "$1 $2" = "env GOROOT" ] && echo ${JSON.stringify(goroot)} && exit 0\nexit 2\n`,
    { mode: 0o755 },
  );
  process.env.PATH = `${bin}${path.delimiter}${process.env.PATH}`;
  state.extensions.set('golang.go', { id: 'golang.go', isActive: true });
  const restarts = [];
  state.commands.set('go.languageserver.restart', async () => void restarts.push(Date.now()));
  await activate(t, w, 'read lock acquired go');
  assert.equal(ext.module.engine.status({ lockDir: w.lockDir })[0].toolchain.path, goroot);
  await until(
    () =>
      rows()[0]?.children.some(
        (c) => c.label === 'go' && /restart only: keeps running during updates/.test(c.description),
      ),
    `view: ${JSON.stringify(rows())}`,
  );
  const writer = spawnWriter(t, ext.file, w.lockDir, { name: 'go', path: goroot });
  await writer.next('acquired');
  assert.equal(restarts.length, 0, 'not restarted while the update runs');
  const note = await until(
    () => state.messages.some((m) => /is being updated/.test(m.text)),
    'the notification',
  ).then(() => state.messages.find((m) => /is being updated/.test(m.text)));
  assert.match(
    note.text,
    /; go will restart when it finishes\. go keeps running during the update: its extension can only restart it$/,
  );
  await until(
    () =>
      rows()[0]?.children.some(
        (c) =>
          c.label === 'go' &&
          /keeps running during the update; restarted after it/.test(c.description),
      ),
    `view during: ${JSON.stringify(rows())}`,
  );
  writer.release();
  await until(() => restarts.length === 1, 'restarted after the update');
  await until(
    () => ext.module.engine.status({ lockDir: w.lockDir })[0].holders.length === 1,
    'read lock again',
  );

  // The two sentences are joined by a message of their own: a language that puts no space between
  // sentences translates it (every other message stays English here).
  state.l10nBundle = { '{0}. {1}': '{0}。{1}' };
  const second = spawnWriter(t, ext.file, w.lockDir, { name: 'go', path: goroot });
  await second.next('acquired');
  const translated = await until(
    () => state.messages.some((m) => /finishes。/.test(m.text)),
    `the second notification: ${JSON.stringify(state.messages.map((m) => m.text))}`,
  ).then(() => state.messages.find((m) => /finishes。/.test(m.text)));
  assert.match(translated.text, /finishes。go keeps running during the update/);
  second.release();
  await until(() => restarts.length === 2, 'restarted after the second update');
});

test('settings: an entry with only restartCommand, or only api, is valid; one with neither is reported; old entries stay valid', async (t) => {
  const w = world(t);
  state.globalConfig['toolchainLock.coordinatedExtensions'] = [
    { extensionId: 'a.restart', restartCommand: 'a.restart', toolchain: w.root },
    { extensionId: 'b.api', api: 'clangd', toolchain: w.root },
    { extensionId: 'c.old', stopCommand: 'c.stop', startCommand: 'c.start', toolchain: w.root },
    { extensionId: 'd.nothing', toolchain: w.root },
  ];
  await activate(t, w, 'servers:');
  await until(() => state.messages.some((m) => /d\.nothing/.test(m.text)), 'the problem reported');
  const problems = state.messages
    .filter((m) => /coordinatedExtensions/.test(m.text))
    .map((m) => m.text);
  assert.equal(problems.length, 1);
  assert.match(
    problems[0],
    /needs "extensionId" and "stopCommand" with "startCommand", or "restartCommand", or "api"/,
  );
  const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
  const items =
    pkg.contributes.configuration.properties['toolchainLock.coordinatedExtensions'].items;
  assert.deepEqual(items.required, ['extensionId']);
  assert.deepEqual(items.anyOf, [
    { required: ['stopCommand', 'startCommand'] },
    { required: ['restartCommand'] },
    { required: ['api'] },
  ]);
});
