// Scenario 8: editing the User settings of a running code-server. Settings in User settings reach
// this (remote) window at start-up and after every edit: an edit of the server's entry restarts it,
// never stops it for good, and removing the entry stops it with a notification that says so.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startFixture, stopFixture } from './fixture.mjs';
import { runCommand, screenshot } from './harness.mjs';
import {
  explainFailure,
  extensionLogText,
  notificationTexts,
  readersOf,
  waitFor,
  waitForStatus,
} from './support.mjs';

/** Replaces the User settings as a user does: in the settings.json editor, then save. */
async function editUserSettings(page, settings) {
  await runCommand(page, 'Preferences: Open User Settings (JSON)');
  const editor = page.locator('.editor-instance .monaco-editor').first();
  await editor.waitFor({ timeout: 15_000 });
  await editor.click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(JSON.stringify(settings));
  await page.keyboard.press('Control+S');
}

/** `skip`: a reason this VS Code cannot run the scenario, printed by the test runner. */
export function settingsScenario(getVsix, { skip } = {}) {
  describe('editing User settings', { skip }, () => {
    let f;
    let page;
    const explain = (name, body) =>
      explainFailure({ server: f.server, lockDir: f.lockDir, page, name }, body);

    before(async () => {
      // Typed into the editor as it is: no brackets or indentation added on the way.
      const typing = {
        'editor.autoClosingBrackets': 'never',
        'editor.autoClosingQuotes': 'never',
        'editor.autoIndent': 'none',
        'editor.formatOnType': false,
      };
      f = await startFixture({ name: 'settings', vsixes: [getVsix()], settings: typing });
      page = await f.openWindow();
    });
    after(() => stopFixture(f));

    test('8. an edit of toolchainLock.servers in User settings restarts the server; removing it is announced', () =>
      explain('e2e-8', async () => {
        await waitForStatus(page, 'demo (1)', (v) => v.text === 'demo (1)' && !v.spinning);
        const file = path.join(f.userData, 'User', 'settings.json');
        const settings = JSON.parse(fs.readFileSync(file, 'utf8'));
        const starts = () =>
          (extensionLogText(f.userData).match(/server typescript started/g) ?? []).length;
        await waitFor('the first start in the log', () => starts() === 1);
        // The edit a user makes: the same server, one more environment variable.
        settings['toolchainLock.servers'] = settings['toolchainLock.servers'].map((s) => ({
          ...s,
          env: { ...s.env, TCL_E2E_EDITED: '1' },
        }));
        await editUserSettings(page, settings);
        await waitFor('the edited server to start', () => starts() === 2);
        await waitForStatus(
          page,
          'demo (1) after the edit',
          (v) => v.text === 'demo (1)' && !v.spinning,
        );
        assert.doesNotMatch(extensionLogText(f.userData), /servers: none/);
        assert.equal(readersOf(f.lockDir, f.toolchain).length, 1);
        await screenshot(page, 'e2e-8-after-edit');

        delete settings['toolchainLock.servers'];
        await editUserSettings(page, settings);
        const note = await waitFor('a notification that the server was stopped', async () =>
          (await notificationTexts(page)).find((t) =>
            t.includes(
              'Toolchain Lock stopped typescript: toolchainLock.servers no longer lists it',
            ),
          ),
        );
        assert.match(note, /Open Settings/);
        await waitFor('the read lock to go', () => readersOf(f.lockDir, f.toolchain).length === 0);
        await screenshot(page, 'e2e-8-server-removed');
      }));
  });
}
