// npm run test:electron: the integration suite inside a desktop VS Code's extension host, through
// @vscode/test-electron. Give the editor with VSCODE_EXECUTABLE_PATH, or let test-electron
// download one (needs the network). Where neither works it says "skipped" and why; a skip is never
// reported as a pass.
import { runTests, downloadAndUnzipVSCode } from '@vscode/test-electron';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
let vscodeExecutablePath = process.env.VSCODE_EXECUTABLE_PATH;
if (!vscodeExecutablePath) {
  try {
    vscodeExecutablePath = await downloadAndUnzipVSCode({
      version: process.env.VSCODE_VERSION ?? '1.100.3',
      timeout: 15000,
    });
  } catch (err) {
    console.log(
      `test:electron: SKIPPED — no desktop VS Code: VSCODE_EXECUTABLE_PATH is not set and downloading one failed (${err?.message ?? err}). Nothing was tested; this is not a pass.`,
    );
    console.log('0 passed, 0 failed, 1 skipped');
    process.exit(0);
  }
}
const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'tcl-electron-ws-'));
const lockDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tcl-electron-locks-'));
try {
  await runTests({
    vscodeExecutablePath,
    extensionDevelopmentPath: root,
    extensionTestsPath: path.join(root, 'test', 'electron', 'suite.cjs'),
    launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust'],
    extensionTestsEnv: { TOOLCHAIN_LOCK_DIR: lockDir, TOOLCHAIN_LOCK_TEST_WORKSPACE: workspace },
  });
} catch (err) {
  console.error(`test:electron: failed: ${err?.message ?? err}`);
  process.exit(1);
} finally {
  fs.rmSync(workspace, { recursive: true, force: true });
  fs.rmSync(lockDir, { recursive: true, force: true });
}
