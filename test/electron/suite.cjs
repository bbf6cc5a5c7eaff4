// Runs inside the extension host with the real `vscode` API (loaded by @vscode/test-electron).
// No test framework: each check throws on failure, and run() rejects with the first failure.
const assert = require('node:assert/strict');
const path = require('node:path');
const vscode = require('vscode');

const EXTENSION_ID = 'toolchain-lock.toolchain-lock';
const COMMANDS = [
  'toolchainLock.updateToolchain',
  'toolchainLock.installToolchain',
  'toolchainLock.showLocks',
  'toolchainLock.openLog',
  'toolchainLock.openUpdateLog',
];
const SETTINGS = [
  'servers',
  'coordinatedExtensions',
  'toolchains',
  'lockDir',
  'pollInterval',
  'stopTimeout',
  'updateTimeout',
];

const checks = {
  async 'the extension activates'() {
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext, `${EXTENSION_ID} is installed`);
    await ext.activate();
    assert.equal(ext.isActive, true);
  },
  async 'every contributed command is registered'() {
    const all = await vscode.commands.getCommands(true);
    for (const c of COMMANDS) assert.ok(all.includes(c), c);
  },
  async 'every documented setting has a default'() {
    const config = vscode.workspace.getConfiguration('toolchainLock');
    for (const s of SETTINGS) assert.notEqual(config.inspect(s)?.defaultValue, undefined, s);
  },
  async 'a configured toolchain is locked, and an outside writer sees this window as a reader'() {
    const engine = require(path.join(__dirname, '..', '..', 'dist', 'lock.js'));
    const dir = path.join(process.env.TOOLCHAIN_LOCK_TEST_WORKSPACE, 'toolchain');
    require('node:fs').mkdirSync(dir, { recursive: true });
    await vscode.workspace
      .getConfiguration('toolchainLock')
      .update(
        'toolchains',
        [{ name: 'electron-test', path: dir, updateCommand: ['true'] }],
        vscode.ConfigurationTarget.Global,
      );
    const done = await vscode.commands.executeCommand(
      'toolchainLock.updateToolchain',
      'electron-test',
    );
    assert.equal(done, true, 'the update ran to the end');
    const statuses = engine.status({ lockDir: process.env.TOOLCHAIN_LOCK_DIR });
    assert.ok(
      statuses.every((s) => s.state === 'free'),
      `after the update nothing is left held: ${JSON.stringify(statuses.map((s) => s.state))}`,
    );
  },
};

exports.run = async function run() {
  let passed = 0;
  const failures = [];
  for (const [name, check] of Object.entries(checks)) {
    try {
      await check();
      passed++;
      console.log(`ok - ${name}`);
    } catch (err) {
      failures.push(name);
      console.log(`not ok - ${name}: ${err?.stack ?? err}`);
    }
  }
  console.log(`${passed} passed, ${failures.length} failed`);
  if (failures.length)
    throw new Error(`${failures.length} check(s) failed: ${failures.join('; ')}`);
};
