// The @vscode/test-electron suite (test/electron/suite.cjs) inside code-server's extension host.
// test-electron itself needs a desktop VS Code; here a tiny runner extension stands in for it:
// activated on startup, it requires the suite, calls run() and writes the outcome as JSON to the
// file named by $TCL_E2E_SUITE_RESULT. The extension host starts when a window connects.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startFixture, stopFixture } from './fixture.mjs';
import { screenshot } from './harness.mjs';
import { explainFailure, repoRoot, tempDir, waitFor, waitForLog } from './support.mjs';

const SUITE = path.join(repoRoot, 'test', 'electron', 'suite.cjs');
const RESULT_ENV = 'TCL_E2E_SUITE_RESULT';

// The extension host makes `console.log` unassignable (it forwards it to the window), so the
// runner hands the suite a console of its own: it loads suite.cjs like require() would, with
// `console` bound to one that also records each line.
const RUNNER_MAIN = `// Runs ${path.relative(repoRoot, SUITE)} once, writes {passed, error, output} to $${RESULT_ENV}.
const fs = require('node:fs');
const path = require('node:path');
const { createRequire } = require('node:module');

function loadWithConsole(file, console) {
  const module = { exports: {} };
  const body = new Function('exports', 'require', 'module', '__filename', '__dirname', 'console', fs.readFileSync(file, 'utf8'));
  body(module.exports, createRequire(file), module, file, path.dirname(file), console);
  return module.exports;
}

exports.activate = async function activate() {
  const file = process.env.${RESULT_ENV};
  if (!file) return;
  const output = [];
  // Not Object.assign: console's own log is an accessor whose setter does nothing.
  const recording = Object.create(console, {
    log: {
      value: (...args) => {
        output.push(args.join(' '));
        console.log(...args);
      },
    },
  });
  let result;
  try {
    await loadWithConsole(${JSON.stringify(SUITE)}, recording).run();
    result = { passed: true };
  } catch (err) {
    result = { passed: false, error: String((err && err.stack) || err) };
  }
  fs.writeFileSync(file + '.tmp', JSON.stringify({ ...result, output }));
  fs.renameSync(file + '.tmp', file);
};
exports.deactivate = function deactivate() {};
`;

/** Packages the runner extension with vsce; returns the VSIX path (inside `dir`). */
function packageRunner(dir) {
  const ext = path.join(dir, 'runner');
  fs.mkdirSync(ext);
  const manifest = {
    name: 'electron-suite-runner',
    displayName: 'Toolchain Lock e2e: electron suite runner',
    description: 'Runs test/electron/suite.cjs in the extension host (tests only).',
    publisher: 'toolchain-lock-tests',
    version: '0.0.1',
    license: 'MIT',
    engines: { vscode: '^1.100.0' },
    activationEvents: ['onStartupFinished'],
    extensionKind: ['workspace'],
    main: './main.js',
  };
  fs.writeFileSync(path.join(ext, 'package.json'), JSON.stringify(manifest, null, 2));
  fs.writeFileSync(path.join(ext, 'main.js'), RUNNER_MAIN);
  fs.writeFileSync(
    path.join(ext, 'README.md'),
    '# electron suite runner\n\nRuns the test/electron suite inside code-server (e2e tests only).\n',
  );
  const out = path.join(dir, 'electron-suite-runner.vsix');
  const vsce = path.join(repoRoot, 'node_modules', '.bin', 'vsce');
  const r = spawnSync(
    vsce,
    ['package', '--allow-missing-repository', '--skip-license', '--no-dependencies', '--out', out],
    { cwd: ext, encoding: 'utf8', timeout: 120_000 },
  );
  if (r.status !== 0)
    throw new Error(
      `vsce package of the runner failed (${r.status ?? r.signal}):\n${r.stdout}${r.stderr}`,
    );
  return out;
}

export function electronSuite(getVsix) {
  describe('the @vscode/test-electron suite, in code-server', () => {
    let f;
    let page;
    let dir;
    let resultFile;

    before(async () => {
      dir = tempDir('tcl-e2e-runner-');
      resultFile = path.join(dir, 'result.json');
      const runner = packageRunner(dir);
      // As scripts/test-electron.mjs gives them: the lock dir (the fixture's own) and a workspace
      // in which the suite creates its toolchain.
      f = await startFixture({
        name: 'electron',
        vsixes: [getVsix(), runner],
        demo: false,
        env: (dirs) => ({
          [RESULT_ENV]: resultFile,
          TOOLCHAIN_LOCK_TEST_WORKSPACE: dirs.workspace,
        }),
      });
    });
    after(async () => {
      await stopFixture(f);
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    test('suite.cjs passes in the extension host', () =>
      explainFailure(
        { server: f.server, lockDir: f.lockDir, page, name: 'e2e-electron' },
        async () => {
          page = await f.openWindow();
          const result = await waitFor(
            'the suite result file',
            () => fs.existsSync(resultFile) && JSON.parse(fs.readFileSync(resultFile, 'utf8')),
            { timeoutMs: 120_000 },
          );
          await screenshot(page, 'e2e-electron-suite-done');
          assert.ok(
            result.passed,
            `the suite failed:\n${result.error}\n${result.output.join('\n')}`,
          );
          const report = result.output.join('\n');
          const oks = result.output.filter((l) => l.startsWith('ok - ')).length;
          assert.ok(oks > 0 && result.output.includes(`${oks} passed, 0 failed`), report);
          assert.ok(!result.output.some((l) => l.startsWith('not ok')), report);
          // The suite's update check counts only if the command really ran the update in this host.
          await waitForLog(f.userData, [/update of electron-test done in/]);
        },
      ));
  });
}
