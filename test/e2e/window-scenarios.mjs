// Scenarios 1–6: one code-server, one folder, the demo language server; a second window where
// a scenario needs one. Every scenario starts from and returns to the steady state: this window
// holds the demo toolchain for read and runs one server (checked by `steady`).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startFixture, stopFixture } from './fixture.mjs';
import { readmeScreenshot, runCommand, screenshot } from './harness.mjs';
import {
  cliStatus,
  explainFailure,
  isAlive,
  isExtensionHost,
  languageServers,
  lockOf,
  notificationTexts,
  quickPickRows,
  readersOf,
  repoRoot,
  sampleDuringUpdate,
  startCli,
  statusItem,
  toastsSettled,
  waitFor,
  waitForLog,
  waitForStatus,
  within,
} from './support.mjs';

const demoUpdate = path.join(repoRoot, 'scripts', 'demo-update.mjs');
const version = (f) => fs.readFileSync(path.join(f.toolchain, 'VERSION'), 'utf8').trim();
const normal = (n) => (v) =>
  v.text === `demo (${n})` && !v.spinning && v.icons.some((c) => c.includes('codicon-lock'));

/**
 * Waits until `pages.length` windows hold the demo toolchain for read, each running exactly one
 * language server it started, and every window's status bar says so. Returns [{ host, server }]
 * by extension host pid.
 */
export async function steady(f, pages) {
  const n = pages.length;
  const windows = await waitFor(
    `${n} window(s) holding the lock, each with one language server`,
    (saw) => {
      const readers = readersOf(f.lockDir, f.toolchain);
      const servers = languageServers(f.toolchain);
      saw({ readers: readers.map((h) => h.pid), servers });
      if (readers.length !== n || servers.length !== n) return false;
      const pairs = readers.map((h) => ({
        host: h.pid,
        holder: h,
        server: servers.find((s) => s.ppid === h.pid)?.pid,
      }));
      return pairs.every((p) => p.server !== undefined) && pairs.sort((a, b) => a.host - b.host);
    },
  );
  for (const page of pages) await waitForStatus(page, `demo (${n}), not spinning`, normal(n));
  return windows;
}

/** Asserts the samples taken while an update ran: the update did run, and never beside a server. */
function assertNoServerDuringUpdate(samples, { serversBefore, writerClient }) {
  const before = samples.filter(
    (s) => s.version !== 'updating' && s.servers.length === serversBefore,
  );
  const during = samples.filter((s) => s.version === 'updating');
  // Control: the sampler sees servers when they run, so an empty list below means something.
  assert.ok(
    before.length > 0,
    `the sampler saw the ${serversBefore} running server(s) before the update`,
  );
  assert.ok(during.length >= 3, `the update was observed while it ran (${during.length} samples)`);
  const overlapping = during.filter((s) => s.servers.length > 0);
  assert.deepEqual(
    overlapping,
    [],
    'no language server runs while the toolchain is being rewritten',
  );
  const writers = new Set(during.map((s) => s.writer).filter(Boolean));
  assert.deepEqual(
    [...writers],
    [writerClient],
    `the ${writerClient} holds the write lock during the update`,
  );
}

export function windowScenarios(getVsix) {
  describe('a VS Code window with the extension and a managed language server', () => {
    let f;
    let page;
    const explain = (name, body) =>
      explainFailure({ server: f.server, lockDir: f.lockDir, page, name }, body);

    before(async () => {
      f = await startFixture({ name: 'window', vsixes: [getVsix()] });
      page = await f.openWindow();
    });
    after(() => stopFixture(f));

    test('1. the status bar item appears and names this window as a reader', () =>
      explain('e2e-1', async () => {
        const [w] = await steady(f, [page]);
        await screenshot(page, 'e2e-1-status-bar');
        // The lock directory, through the CLI a user would run.
        const status = cliStatus(f.lockDir).toolchains.find((t) => t.path === f.toolchain);
        assert.equal(status.state, 'read');
        assert.equal(status.holders.length, 1);
        const holder = status.holders[0];
        assert.equal(holder.client, 'vscode');
        assert.deepEqual(holder.command, ['code-server window', path.basename(f.workspace)]);
        assert.equal(holder.purpose, 'language servers: typescript');
        assert.equal(holder.liveness, 'alive');
        assert.ok(
          isExtensionHost(holder.pid),
          `the holder pid ${holder.pid} is this window's extension host`,
        );
        assert.equal(w.host, holder.pid, 'the language server is a child of that extension host');
        // The tooltip says the same, with the real pids (the window renders a moment after the
        // server's process is up).
        const view = await waitForStatus(page, 'the tooltip naming the running server', (v) =>
          v.tooltip.includes(`Servers: typescript (running, pid ${w.server})`),
        );
        assert.match(view.tooltip, /held for read by this window/);
        assert.match(
          view.tooltip,
          new RegExp(`code\\\\-server window .*pid ${holder.pid} .*\\*\\*this window\\*\\*`),
        );
        assert.match(
          view.tooltip,
          new RegExp(`Servers: typescript \\(running, pid ${w.server}\\)`),
        );
        // What a user sees on hover.
        await statusItem(page).hover();
        const hover = page
          .locator('.monaco-hover, .workbench-hover')
          .filter({ hasText: 'held for read by this window' })
          .first();
        await hover.waitFor({ timeout: 15_000 });
        await screenshot(page, 'e2e-1-status-bar-tooltip');
        await readmeScreenshot(page, 'status', [hover, statusItem(page)]);
        await page.mouse.move(640, 300);
      }));

    test('2. an update started with the CLI stops the server, runs, and the server comes back', () =>
      explain('e2e-2', async () => {
        const [w] = await steady(f, [page]);
        const versionBefore = Number(version(f));
        const sampler = sampleDuringUpdate(f.toolchain, f.lockDir);
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
          await waitForStatus(
            page,
            'spinning while the update is pending or running',
            (v) => v.spinning && /demo: (update pending|updating)/.test(v.text),
          );
          const toast = await waitFor('the step-aside notification', async (saw) => {
            const texts = saw(await notificationTexts(page));
            return texts.find((t) =>
              /Toolchain demo is being updated by .*demo-update\.mjs.*\(pid \d+\); typescript will restart when it finishes/.test(
                t,
              ),
            );
          });
          assert.ok(toast);
          await toastsSettled(page);
          await screenshot(page, 'e2e-2-cli-update-running');
          const result = await within(90_000, 'the CLI update to finish', cli.exited);
          assert.equal(result.code, 0, `toolchain-lock update succeeded:\n${cli.output()}`);
          // It had to wait for this window, and said whom it waited for.
          assert.match(result.stderr, /waiting for the write lock of demo.*code-server window/);
          assert.match(
            result.stdout,
            new RegExp(`demo-update: done, version ${versionBefore + 1}`),
          );
        } finally {
          cli.child.kill('SIGKILL');
        }
        const [w2] = await steady(f, [page]);
        const samples = sampler.stop();
        assert.equal(w2.host, w.host, 'the same window holds the lock again');
        assert.notEqual(w2.server, w.server, 'a new language server process');
        assert.equal(isAlive(w.server), false, `the old server (pid ${w.server}) is gone`);
        assert.equal(Number(version(f)), versionBefore + 1);
        assertNoServerDuringUpdate(samples, { serversBefore: 1, writerClient: 'cli' });
        // The notification has actions (Show Locks, Don't Show Again), so it stays until dismissed.
        await runCommand(page, 'Notifications: Clear All Notifications');
        await waitForLog(f.userData, [
          /update pending by .*demo-update\.mjs.* on demo/,
          new RegExp(`server typescript process pid=${w.server} exited`),
          new RegExp(`server typescript started pid=${w2.server}`),
        ]);
        await screenshot(page, 'e2e-2-cli-update-done');
      }));

    test('3. "Update toolchain safely" from the command palette does the same, with a progress notification', () =>
      explain('e2e-3', async () => {
        const [w] = await steady(f, [page]);
        const versionBefore = Number(version(f));
        const sampler = sampleDuringUpdate(f.toolchain, f.lockDir);
        await runCommand(page, 'Toolchain Lock: Update toolchain safely', { waitClosed: false });
        const row = page
          .locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: 'demo' })
          .first();
        await row.waitFor({ timeout: 15_000 });
        const rows = await quickPickRows(page);
        assert.ok(
          rows.some(
            (r) =>
              r.includes('demo') &&
              r.includes('held for read by 1') &&
              r.includes('used by this window') &&
              r.includes(f.toolchain),
          ),
          JSON.stringify(rows),
        );
        await screenshot(page, 'e2e-3-palette-pick-toolchain');
        await row.click();
        const toast = await waitFor('the "Updating demo" progress notification', async (saw) => {
          const texts = saw(await notificationTexts(page));
          return texts.find((t) => /Updating demo: running .*demo-update\.mjs/.test(t));
        });
        assert.ok(toast);
        await toastsSettled(page);
        await screenshot(page, 'e2e-3-palette-progress');
        await readmeScreenshot(page, 'update', [
          page
            .locator('.notifications-toasts .notification-toast', { hasText: 'Updating demo' })
            .first(),
          statusItem(page),
        ]);
        await waitFor('the update to finish', () => Number(version(f)) === versionBefore + 1, {
          timeoutMs: 90_000,
        });
        const [w2] = await steady(f, [page]);
        const samples = sampler.stop();
        assert.equal(w2.host, w.host);
        assert.notEqual(w2.server, w.server, 'a new language server process');
        assert.equal(isAlive(w.server), false, `the old server (pid ${w.server}) is gone`);
        assertNoServerDuringUpdate(samples, { serversBefore: 1, writerClient: 'vscode' });
        await waitFor(
          'the progress notification to go',
          async () => !(await notificationTexts(page)).some((t) => t.includes('Updating demo')),
        );
        // The update's output is shown live in its output channel (Monaco renders spaces as U+00A0).
        await page
          .locator('.part.panel .view-lines')
          .filter({ hasText: /Done\sin\s[\d.]+\ss\./ })
          .first()
          .waitFor({ timeout: 15_000 });
        await waitForLog(f.userData, [/update of demo done in/]);
        await screenshot(page, 'e2e-3-palette-update-done');
      }));

    test('4. "Show who holds which lock" lists the holders', () =>
      explain('e2e-4', async () => {
        const [w] = await steady(f, [page]);
        // A second holder: a build run through the CLI.
        const build = startCli([
          'run',
          f.toolchain,
          '--lock-dir',
          f.lockDir,
          '--purpose',
          'e2e build',
          '--',
          process.execPath,
          '-e',
          'setInterval(() => {}, 1000)',
        ]);
        try {
          const cliHolder = await waitFor('the CLI reader', () =>
            readersOf(f.lockDir, f.toolchain).find((h) => h.client === 'cli'),
          );
          await runCommand(page, 'Toolchain Lock: Show who holds which lock', {
            waitClosed: false,
          });
          const rows = await waitFor('the lock in the quick pick', async (saw) => {
            const r = saw(await quickPickRows(page));
            return r.some((x) => x.includes('held for read · 2 holders')) && r;
          });
          await screenshot(page, 'e2e-4-show-locks');
          const demoRow = rows.find((r) => r.includes('demo'));
          assert.ok(demoRow, JSON.stringify(rows));
          assert.match(
            demoRow,
            new RegExp(
              `reader: code-server window ${path.basename(f.workspace)} \\[language servers: typescript\\] \\(pid ${w.host}, .*\\) \\(this window\\)`,
            ),
          );
          assert.match(
            demoRow,
            new RegExp(
              `reader: ${process.execPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} -e .* \\[e2e build\\] \\(pid ${cliHolder.pid}, `,
            ),
          );
          // Picking the lock offers what can be done about it.
          await page
            .locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: 'demo' })
            .first()
            .click();
          const actions = await waitFor('the actions quick pick', async (saw) => {
            const r = saw(await quickPickRows(page));
            return r.includes('Update safely') && r;
          });
          assert.deepEqual(actions, ['Update safely', 'Copy details', 'Open log']);
          await screenshot(page, 'e2e-4-show-locks-actions');
          await page.keyboard.press('Escape');
          await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 15_000 });
        } finally {
          build.child.kill('SIGTERM');
          await within(30_000, 'the CLI reader to exit', build.exited);
        }
        await steady(f, [page]);
      }));

    test('5. a second window on the same folder is a second reader, and both restart after an update', async () => {
      let page2;
      await explain('e2e-5', async () => {
        page2 = await f.openWindow();
        const before = await steady(f, [page, page2]);
        assert.notEqual(before[0].host, before[1].host, 'two extension hosts');
        await screenshot(page, 'e2e-5-window-1-two-readers');
        await screenshot(page2, 'e2e-5-window-2-two-readers');
        const sampler = sampleDuringUpdate(f.toolchain, f.lockDir);
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
          for (const p of [page, page2])
            await waitForStatus(p, 'spinning during the update', (v) => v.spinning);
          await screenshot(page2, 'e2e-5-window-2-update-running');
          const result = await within(90_000, 'the CLI update to finish', cli.exited);
          assert.equal(result.code, 0, cli.output());
        } finally {
          cli.child.kill('SIGKILL');
        }
        const afterUpdate = await steady(f, [page, page2]);
        const samples = sampler.stop();
        assertNoServerDuringUpdate(samples, { serversBefore: 2, writerClient: 'cli' });
        assert.deepEqual(
          afterUpdate.map((x) => x.host),
          before.map((x) => x.host),
          'the same two windows hold the lock again',
        );
        for (const [i, w] of before.entries()) {
          assert.notEqual(afterUpdate[i].server, w.server, `window ${w.host} runs a new server`);
          assert.equal(isAlive(w.server), false, `its old server ${w.server} is gone`);
        }
        for (const p of [page, page2]) {
          // The step-aside notification has actions, so it stays until dismissed.
          await runCommand(p, 'Notifications: Clear All Notifications');
        }
        await screenshot(page, 'e2e-5-window-1-after-update');
        await screenshot(page2, 'e2e-5-window-2-after-update');
      }).finally(() => page2?.close({ runBeforeUnload: true }));
      await explain('e2e-5-cleanup', () => steady(f, [page]));
    });

    test('6. closing a window releases its lock and ends its server', () =>
      explain('e2e-6', async () => {
        const [mine] = await steady(f, [page]);
        const page2 = await f.openWindow();
        const both = await steady(f, [page, page2]);
        const other = both.find((w) => w.host !== mine.host);
        await screenshot(page2, 'e2e-6-second-window-open');
        await page2.close({ runBeforeUnload: true });
        // The extension host shuts down on its own schedule: a generous bound.
        await waitFor(
          `window ${other.host} to release its read lock`,
          () => !readersOf(f.lockDir, f.toolchain).some((h) => h.pid === other.host),
          { timeoutMs: 120_000 },
        );
        await waitFor(`its language server ${other.server} to end`, () => !isAlive(other.server), {
          timeoutMs: 30_000,
        });
        const [left] = await steady(f, [page]);
        assert.equal(left.host, mine.host);
        assert.equal(left.server, mine.server, 'the remaining window keeps its server running');
        const status = lockOf(f.lockDir, f.toolchain);
        assert.deepEqual(
          status.holders.map((h) => h.pid),
          [mine.host],
          'status lists no reader from the closed window',
        );
        await screenshot(page, 'e2e-6-after-closing-second-window');
      }));
  });
}
