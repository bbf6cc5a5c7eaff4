// The extension's terminals get the shims first on PATH (setting toolchainLock.terminalShims, on
// by default): written in the extension's storage for the machine's real rustup, run by the
// editor's runtime with the bundled CLI; off, PATH gets only the CLI.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import {
  activateFor,
  changed,
  extensionForFile,
  fakeContext,
  log,
  recordingEnvironment,
  repoRoot,
  tempDir,
  until,
  vscode,
} from './extension-harness.mjs';

const { state } = vscode;
const machineRustup = path.join(os.homedir(), '.cargo', 'bin', 'rustup');

const ext = extensionForFile("export * from './src/extension/main';");

test(
  'terminals get the shims first on PATH, the bundled CLI behind them; toolchainLock.terminalShims false leaves only the CLI',
  { timeout: 30000 },
  async (t) => {
    if (!fs.existsSync(machineRustup)) return t.skip('skipped: no rustup');
    const root = tempDir(t);
    const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
    const setting = pkg.contributes.configuration.properties['toolchainLock.terminalShims'];
    assert.equal(setting.type, 'boolean');
    assert.equal(setting.default, true);
    state.globalConfig['toolchainLock.lockDir'] = path.join(root, 'locks');
    const env = recordingEnvironment();
    const storage = path.join(root, 'storage');
    void activateFor(t, ext, fakeContext(root, { env }));
    await until(
      () => env.ops.some(([, k]) => k === 'PATH'),
      `terminal env; log: ${log().join('\n')}`,
    );
    const shims = path.join(storage, 'shims');
    const [[, , front]] = env.ops.filter(([, k]) => k === 'PATH');
    assert.deepEqual(front.split(path.delimiter), [shims, path.join(storage, 'bin'), '']);
    assert.deepEqual(
      env.ops.find(([, k]) => k === 'TOOLCHAIN_LOCK_SHIM_DIR'),
      ['replace', 'TOOLCHAIN_LOCK_SHIM_DIR', shims],
    );
    assert.ok(
      log().some((l) =>
        l.includes(`terminal PATH gets the shims for ${machineRustup} in ${shims}`),
      ),
      log().join('\n'),
    );
    // The shim runs the editor's runtime (here Node) with the bundled CLI, and works as a terminal would use it.
    const cargo = fs.readFileSync(path.join(shims, 'cargo'), 'utf8');
    assert.match(cargo, new RegExp(`^node='${process.execPath}'$`, 'm'));
    assert.match(cargo, new RegExp(`^cli='${path.join(repoRoot, 'dist', 'cli.js')}'$`, 'm'));
    const terminalPath = `${front}${path.dirname(machineRustup)}${path.delimiter}/usr/bin${path.delimiter}/bin`;
    const where = execFileSync(
      process.execPath,
      [path.join(repoRoot, 'dist', 'cli.js'), 'shims', 'dir'],
      {
        encoding: 'utf8',
        env: { ...process.env, PATH: terminalPath, TOOLCHAIN_LOCK_SHIM_DIR: shims },
      },
    );
    assert.match(
      where,
      new RegExp(`^${shims}\\n  in effect: plain .*cargo.* run through the shims in ${shims}\\.`),
    );

    state.globalConfig['toolchainLock.terminalShims'] = false;
    changed('toolchainLock.terminalShims');
    await until(
      () => !env.ops.some(([, k]) => k === 'TOOLCHAIN_LOCK_SHIM_DIR'),
      `shims off; env ${JSON.stringify(env.ops)}`,
    );
    assert.deepEqual(
      env.ops.filter(([, k]) => k === 'PATH'),
      [['prepend', 'PATH', `${path.join(storage, 'bin')}${path.delimiter}`]],
    );
  },
);
