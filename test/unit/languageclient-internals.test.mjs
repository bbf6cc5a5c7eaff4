// servers/managed.ts reaches into vscode-languageclient where its public API has no hook: the
// promise a start keeps (`_onStart`, rejected with nobody listening when a server dies during
// initialize) and the ExecuteCommand feature's register/unregister (to skip a command another
// extension owns). The dependency is pinned exactly in package.json; this fails when an upgrade
// moves either, before users meet unhandled rejections or failed starts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { bundleForFile, fakeVscodePath, repoRoot } from './extension-harness.mjs';

const lib = bundleForFile(
  'lc',
  "export { LanguageClient } from 'vscode-languageclient/node';\nexport { ExecuteCommandFeature } from 'vscode-languageclient/lib/common/executeCommand';",
  { vscodeFake: fakeVscodePath, native: false },
);

test('vscode-languageclient is pinned exactly, and the installed one is that version', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
  const pinned = pkg.dependencies['vscode-languageclient'];
  assert.match(pinned, /^\d+\.\d+\.\d+$/, 'an exact version: managed.ts depends on its internals');
  const installed = JSON.parse(
    fs.readFileSync(
      path.join(repoRoot, 'node_modules', 'vscode-languageclient', 'package.json'),
      'utf8',
    ),
  ).version;
  assert.equal(installed, pinned);
});

test('start() keeps its promise in _onStart, and the ExecuteCommand feature registers per id', () => {
  // Source-level: start() is what assigns the promise managed.ts marks handled.
  const start = Object.getPrototypeOf(lib.module.LanguageClient.prototype).start.toString();
  assert.match(start, /this\._onStart\s*=/, 'BaseLanguageClient.start assigns this._onStart');
  const feature = new lib.module.ExecuteCommandFeature({ onRequest() {}, sendRequest() {} });
  assert.equal(feature.registrationType.method, 'workspace/executeCommand');
  assert.equal(typeof feature.register, 'function');
  assert.equal(typeof feature.unregister, 'function');
  assert.equal(feature.register.length, 1, 'register(data: { id, registerOptions: { commands } })');
  assert.equal(feature.unregister.length, 1, 'unregister(id)');
});
