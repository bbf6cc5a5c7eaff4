// A managed server whose LSP command ids are already taken by another extension. The demo server
// (typescript-language-server) advertises `_typescript.configurePlugin`, which VS Code's built-in
// TypeScript extension registers too; stock vscode-languageclient then fails the server's whole
// start ("command ... already exists"). Reproduced the way a user meets it: open a .ts file while
// an update runs (our server is stopped, the built-in extension activates and takes the id); after
// the update our server must come back anyway (fixed in fe86b91: the clash is logged and skipped).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startFixture, stopFixture } from './fixture.mjs';
import { screenshot } from './harness.mjs';
import {
  explainFailure,
  extensionLogText,
  languageServers,
  lockOf,
  readersOf,
  repoRoot,
  startCli,
  waitFor,
  waitForStatus,
  within,
} from './support.mjs';

/** The extension host logs (which extensions were activated, and why). */
function extensionHostLog(userDataDir) {
  const out = [];
  const walk = (dir) => {
    for (const e of fs.existsSync(dir) ? fs.readdirSync(dir, { withFileTypes: true }) : []) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name === 'remoteexthost.log') out.push(fs.readFileSync(p, 'utf8'));
    }
  };
  walk(path.join(userDataDir, 'logs'));
  return out.join('\n');
}

export function commandCollision(getVsix) {
  describe('a managed server next to an extension that registers one of its command ids', () => {
    let f;
    let page;

    before(async () => {
      f = await startFixture({ name: 'collision', vsixes: [getVsix()] });
      page = await f.openWindow();
    });
    after(() => stopFixture(f));

    test('the server comes back after an update during which a .ts file was opened', () =>
      explainFailure(
        { server: f.server, lockDir: f.lockDir, page, name: 'e2e-collision' },
        async () => {
          await waitForStatus(page, 'demo (1)', (v) => v.text === 'demo (1)' && !v.spinning);
          const [first] = await waitFor('the demo server', () => {
            const s = languageServers(f.toolchain);
            return s.length === 1 && s;
          });
          const update = startCli([
            'update',
            f.toolchain,
            '--lock-dir',
            f.lockDir,
            '--',
            process.execPath,
            path.join(repoRoot, 'scripts', 'demo-update.mjs'),
            f.toolchain,
            '8',
          ]);
          try {
            await waitFor(
              'the update to run with our server stopped',
              () =>
                lockOf(f.lockDir, f.toolchain)?.state === 'write' &&
                languageServers(f.toolchain).length === 0,
            );
            await page
              .locator('.explorer-folders-view .monaco-list-row', { hasText: 'hello.ts' })
              .dblclick();
            await waitFor(
              "VS Code's TypeScript extension to activate",
              () =>
                /_doActivateExtension vscode\.typescript-language-features/.test(
                  extensionHostLog(f.userData),
                ),
              { timeoutMs: 30_000 },
            );
            assert.equal(
              lockOf(f.lockDir, f.toolchain)?.state,
              'write',
              'premise: the update was still running when the TypeScript extension activated',
            );
            await screenshot(page, 'e2e-collision-ts-file-opened-during-update');
            const result = await within(90_000, 'the update', update.exited);
            assert.equal(result.code, 0, update.output());
          } finally {
            update.child.kill('SIGKILL');
          }
          try {
            await waitFor(
              'a new demo server',
              () => languageServers(f.toolchain).some((s) => s.pid !== first.pid),
              { timeoutMs: 30_000 },
            );
          } catch (err) {
            const why = extensionLogText(f.userData).match(/.*server typescript failed.*/)?.[0];
            throw new Error(`${err.message}${why ? `; the extension logged: ${why}` : ''}`);
          } finally {
            await screenshot(page, 'e2e-collision-after-update');
          }
          // The premise held: the id really was taken when our server restarted (logged a moment
          // after its process appears).
          await waitFor('the collision to be logged', () =>
            /server typescript: its command _typescript\.configurePlugin is already registered by another extension/.test(
              extensionLogText(f.userData),
            ),
          );
          const log = extensionLogText(f.userData);
          assert.doesNotMatch(log, /server typescript failed/);
          await waitForStatus(
            page,
            'demo (1), not spinning',
            (v) => v.text === 'demo (1)' && !v.spinning,
          );
          assert.equal(
            readersOf(f.lockDir, f.toolchain).length,
            1,
            'the window holds the lock again',
          );
        },
      ));
  });
}
