// Scenario 7: an untrusted workspace. Its .vscode/settings.json names a language server and an
// update command that would each create a marker file; while the folder is untrusted neither may
// ever run. The control: the same window, once the user trusts the folder, does run them — so the
// markers' absence before means the settings were ignored, not that they could not have worked.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startFixture, stopFixture } from './fixture.mjs';
import { runCommand, screenshot } from './harness.mjs';
import {
  explainFailure,
  extensionLogText,
  quickPickRows,
  readersOf,
  sleep,
  waitFor,
  waitForStatus,
} from './support.mjs';

/** Node one-liner that creates `file`. */
const touch = (file) => [
  process.execPath,
  '-e',
  `require('fs').writeFileSync(${JSON.stringify(file)}, 'ran')`,
];

export function trustScenario(getVsix) {
  describe('an untrusted workspace', () => {
    let f;
    let page;
    let markers;
    const explain = (name, body) =>
      explainFailure({ server: f.server, lockDir: f.lockDir, page, name }, body);

    before(async () => {
      f = await startFixture({
        name: 'trust',
        vsixes: [getVsix()],
        trustPrompt: true,
        workspaceSettings: (dirs) => {
          const toolchain = path.join(dirs.root, 'toolchains', 'from-workspace');
          fs.mkdirSync(toolchain, { recursive: true });
          markers = {
            server: path.join(dirs.root, 'marker-server'),
            update: path.join(dirs.root, 'marker-update'),
          };
          const [program, ...args] = touch(markers.server);
          return {
            'toolchainLock.toolchains': [
              { name: 'from-workspace', path: toolchain, updateCommand: touch(markers.update) },
            ],
            'toolchainLock.servers': [
              { id: 'workspace-server', toolchain: 'from-workspace', command: program, args },
            ],
          };
        },
      });
      page = await f.openWindow();
    });
    after(() => stopFixture(f));

    test('7. no command from workspace settings runs until the folder is trusted', () =>
      explain('e2e-7', async () => {
        const prompt = page.locator('.monaco-dialog-box', {
          hasText: 'Do you trust the authors of the files in this folder?',
        });
        await prompt.waitFor({ timeout: 60_000 });
        await screenshot(page, 'e2e-7-trust-prompt');
        await prompt
          .locator('.monaco-button', { hasText: "No, I don't trust the authors" })
          .click();
        await prompt.waitFor({ state: 'hidden', timeout: 15_000 });

        // The extension runs in restricted mode: the user's own server (user settings) is managed...
        await waitForStatus(
          page,
          'demo (1) from the user settings',
          (v) => v.text === 'demo (1)' && !v.spinning,
        );
        await waitFor('the extension to have set up its servers', () => {
          const log = extensionLogText(f.userData);
          return /trusted=false/.test(log) && /servers: typescript on demo\b/.test(log);
        });
        assert.equal(readersOf(f.lockDir, f.toolchain).length, 1);
        await screenshot(page, 'e2e-7-restricted-mode');
        // ...and the workspace's toolchain is not even offered for an update.
        await runCommand(page, 'Toolchain Lock: Update toolchain safely', { waitClosed: false });
        const rows = await waitFor('the toolchain quick pick', async (saw) => {
          const r = saw(await quickPickRows(page));
          return r.some((x) => x.includes('demo')) && r;
        });
        assert.ok(
          !rows.some((r) => r.includes('from-workspace')),
          `untrusted workspace toolchains are not offered: ${JSON.stringify(rows)}`,
        );
        await screenshot(page, 'e2e-7-restricted-update-pick');
        await page.keyboard.press('Escape');
        await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 15_000 });
        // A short "must not happen" window on top of everything above.
        await sleep(3000);
        assert.equal(
          fs.existsSync(markers.server),
          false,
          'the workspace server command never ran',
        );
        assert.equal(
          fs.existsSync(markers.update),
          false,
          'the workspace update command never ran',
        );
        assert.doesNotMatch(extensionLogText(f.userData), /workspace-server/);

        // Control: trusting the folder makes the very same settings run.
        await runCommand(page, 'Workspaces: Manage Workspace Trust');
        await page
          .locator('.workspace-trust-editor .monaco-button', { hasText: /^Trust$/ })
          .click();
        await waitFor('the workspace server command to run once trusted', () =>
          fs.existsSync(markers.server),
        );
        await runCommand(page, 'Toolchain Lock: Update toolchain safely', { waitClosed: false });
        const row = page
          .locator('.quick-input-widget .quick-input-list .monaco-list-row', {
            hasText: 'from-workspace',
          })
          .first();
        await row.waitFor({ timeout: 15_000 });
        await row.click();
        await waitFor('the workspace update command to run once trusted', () =>
          fs.existsSync(markers.update),
        );
        // The command writes its marker a moment before it exits and the extension logs it.
        await waitFor('the update to be logged as done', () =>
          /update of from-workspace done/.test(extensionLogText(f.userData)),
        );
        await screenshot(page, 'e2e-7-control-trusted');
      }));
  });
}
