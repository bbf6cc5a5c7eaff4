// Scenario 10: what a user sees of the installed extension. Its details page in the Extensions
// view, with every README image loaded; the Toolchain Locks view in the Explorer, live during an
// update started from the CLI.
//
// code-server has no network here. vsce rewrites the README's images to the repository
// (https://github.com/toolchain-lock/toolchain-lock/raw/HEAD/PATH), which the Marketplace, Open VSX
// and an online Extensions view load. This test answers those URLs from the installed extension's
// own folder, so it proves that every image URL names a file the VSIX ships at the same path.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startFixture, stopFixture } from './fixture.mjs';
import { readmeScreenshot, screenshot } from './harness.mjs';
import { explainFailure, repoRoot, startCli, waitFor, waitForStatus, within } from './support.mjs';

const IMAGES = 'https://github.com/toolchain-lock/toolchain-lock/raw/HEAD/';
const demoUpdate = path.join(repoRoot, 'scripts', 'demo-update.mjs');

/** The installed extension's folder under the extensions dir. */
function installedDir(extensionsDir) {
  const name = fs
    .readdirSync(extensionsDir)
    .find((n) => n.startsWith('toolchain-lock.toolchain-lock-'));
  assert.ok(name, `the extension is installed in ${extensionsDir}`);
  return path.join(extensionsDir, name);
}

/** The frame showing the README (the details page is a webview: iframes in iframes). */
async function readmeFrame(page) {
  return waitFor('the README in the details page', async () => {
    for (const frame of page.frames()) {
      const found = await frame
        .evaluate(
          () =>
            document.querySelector('h1')?.textContent?.includes('Toolchain Lock') &&
            document.images.length > 0,
        )
        .catch(() => false);
      if (found) return frame;
    }
    return null;
  });
}

/** The rows of the Toolchain Locks view: label and description. */
function viewRows(page) {
  return page
    .locator('.pane:has(.pane-header:has-text("Toolchain Locks")) .monaco-list-row')
    .evaluateAll((els) => els.map((e) => e.innerText.replace(/\s+/g, ' ').trim()));
}

export function marketplaceScenario(getVsix) {
  describe('details page and Locks view', () => {
    let f;
    let page;
    const served = [];
    const explain = (name, body) =>
      explainFailure({ server: f.server, lockDir: f.lockDir, page, name }, body);

    before(async () => {
      f = await startFixture({ name: 'market', vsixes: [getVsix()] });
      page = await f.openWindow();
      const dir = installedDir(f.extensions);
      await page.context().route(`${IMAGES}**`, (route) => {
        const rel = decodeURIComponent(new URL(route.request().url()).pathname).split(
          '/raw/HEAD/',
        )[1];
        const file = path.join(dir, rel);
        const ok = fs.existsSync(file);
        served.push({ rel, ok });
        return ok
          ? route.fulfill({ path: file })
          : route.fulfill({ status: 404, body: 'not in the VSIX' });
      });
    });
    after(() => stopFixture(f));

    test('10a. the details page shows the README with every image', () =>
      explain('e2e-10a', async () => {
        await page.keyboard.press('Control+Shift+X');
        const search = page
          .locator(
            '.extensions-viewlet .suggest-input-container, .extensions-viewlet .monaco-editor',
          )
          .first();
        await search.waitFor({ timeout: 30_000 });
        await search.click();
        await page.keyboard.type('@installed Toolchain Lock');
        const entry = page
          .locator('.extensions-viewlet .monaco-list-row', { hasText: 'Toolchain Lock' })
          .first();
        await entry.waitFor({ timeout: 30_000 });
        await entry.click();
        const frame = await readmeFrame(page);
        const images = await waitFor('every README image to load', async (saw) => {
          const imgs = saw(
            await frame.evaluate(() =>
              [...document.images].map((i) => ({
                src: i.src,
                loaded: i.complete && i.naturalWidth > 0,
              })),
            ),
          );
          return imgs.length >= 2 && imgs.every((i) => i.loaded) && imgs;
        });
        for (const img of images)
          assert.ok(img.src.startsWith(IMAGES), `image ${img.src} points at the repository`);
        assert.ok(
          served.length >= images.length && served.every((s) => s.ok),
          `every image is a file of the VSIX: ${JSON.stringify(served)}`,
        );
        const text = await frame.evaluate(() => document.body.innerText);
        assert.match(text, /Everyday use/);
        assert.doesNotMatch(text, /qemu|wine/, 'no contributor set-up on the page');
        await screenshot(page, 'e2e-10a-details-page');
      }));

    test('10b. the Toolchain Locks view shows the toolchain, its holder and server, and an update live', () =>
      explain('e2e-10b', async () => {
        await page.keyboard.press('Control+Shift+E');
        await waitForStatus(page, 'demo (1)', (v) => v.text === 'demo (1)' && !v.spinning);
        const header = page.locator('.pane-header', { hasText: 'Toolchain Locks' });
        await header.waitFor({ timeout: 30_000 });
        if ((await header.getAttribute('aria-expanded')) === 'false') await header.click();
        const rows = await waitFor(
          'the toolchain, this window and the server in the view',
          async (saw) => {
            const r = saw(await viewRows(page));
            return (
              r.some((x) => /^demo\s*held for read by this window/.test(x)) &&
              r.some((x) => /reading · pid \d+ .*this window/.test(x)) &&
              r.some((x) => /^typescript\s*running/.test(x)) &&
              r
            );
          },
        );
        assert.ok(rows.length >= 3);
        // Room for the view: no editor, a wider side bar.
        await page.keyboard.press('Control+K');
        await page.keyboard.press('W');
        const sash = await page.locator('[id="workbench.parts.sidebar"]').boundingBox();
        await page.mouse.move(sash.x + sash.width, 400);
        await page.mouse.down();
        await page.mouse.move(sash.x + 560, 400, { steps: 5 });
        await page.mouse.up();
        // The selected row shows its inline actions (Update safely, Copy details) without a hover.
        const pane = page.locator('.pane:has(.pane-header:has-text("Toolchain Locks"))');
        const first = pane.locator('.monaco-list-row').first();
        await first.click();
        // A click on a row with children also toggles it: open it again, the selection stays.
        if ((await first.getAttribute('aria-expanded')) === 'false')
          await page.keyboard.press('ArrowRight');
        await page.mouse.move(900, 300);
        await waitFor('the rows open again', async () => (await viewRows(page)).length >= 3);
        await pane
          .locator('.monaco-list-row .action-label.codicon-sync')
          .first()
          .waitFor({ timeout: 15_000 });
        await screenshot(page, 'e2e-10b-locks-view');
        const cli = startCli([
          'update',
          f.toolchain,
          '--lock-dir',
          f.lockDir,
          '--',
          process.execPath,
          demoUpdate,
          f.toolchain,
          '3',
        ]);
        try {
          await waitFor('the update in the view', async (saw) =>
            saw(await viewRows(page)).some((x) => /updating · pid \d+ .*toolchain-lock/.test(x)),
          );
          await screenshot(page, 'e2e-10b-locks-view-update');
          await readmeScreenshot(page, 'view', [
            pane,
            page.locator('[id="workbench.parts.statusbar"] [id$="toolchainLock.status"]'),
          ]);
          const result = await within(90_000, 'the CLI update to finish', cli.exited);
          assert.equal(result.code, 0, cli.output());
        } finally {
          cli.child.kill('SIGKILL');
        }
        await waitFor('the view back to normal', async (saw) => {
          const r = saw(await viewRows(page));
          return (
            r.some((x) => /^demo\s*held for read by this window/.test(x)) &&
            !r.some((x) => /updating/.test(x))
          );
        });
      }));
  });
}
