// Scenario 9: the extension host SIGKILLed at random points (issue 11, "nothing lost when things go
// wrong"). Each kill lands in one phase, after a random delay: the window holds the lock and runs
// its server; this window's own update waits for the write lock, or runs; an update from the CLI
// waits for the window, or runs. Each time, an update that had started runs to completion with
// its output complete, no lock or record is left behind, and the window comes back to its steady
// state. code-server restarts a crashed extension host by itself twice in 5 minutes; from the third
// crash on it offers "Restart Remote Extension Host" instead, which we click, as a user would.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startFixture, stopFixture } from './fixture.mjs';
import { runCommand, screenshot } from './harness.mjs';
import {
  cliClean,
  cliStatus,
  explainFailure,
  extensionHostsOf,
  isAlive,
  lockOf,
  readersOf,
  repoRoot,
  sleep,
  startCli,
  toastsSettled,
  waitFor,
  within,
} from './support.mjs';
import { steady } from './window-scenarios.mjs';

const demoUpdate = path.join(repoRoot, 'scripts', 'demo-update.mjs');
const between = (lo, hi) => Math.round(lo + Math.random() * (hi - lo));
const versionOf = (f) => fs.readFileSync(path.join(f.toolchain, 'VERSION'), 'utf8').trim();
const recordFiles = (f) => fs.readdirSync(f.lockDir).filter((n) => /~[0-9a-f]{12}\.json$/.test(n));

/** The update logs the extension wrote into its global storage. */
function updateLogs(f) {
  const out = [];
  const walk = (dir) => {
    for (const e of fs.existsSync(dir) ? fs.readdirSync(dir, { withFileTypes: true }) : []) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (path.basename(dir) === 'update-logs' && e.name.endsWith('.log')) out.push(p);
    }
  };
  walk(path.join(f.userData, 'User', 'globalStorage'));
  return out.sort();
}

/** flock(1) -n: true when `file` can be taken in `mode` now, i.e. nobody holds it against that. */
function free(file, mode) {
  const r = spawnSync('flock', ['-n', '-E', '42', mode === 'write' ? '-x' : '-s', file, 'true']);
  if (r.status !== 0 && r.status !== 42)
    throw new Error(`flock -n ${file}: ${r.status ?? r.signal} ${r.stderr}`);
  return r.status === 0;
}

/** "Toolchain Lock: Update toolchain safely" on demo, from the command palette. */
async function startOwnUpdate(page) {
  await runCommand(page, 'Toolchain Lock: Update toolchain safely', { waitClosed: false });
  const row = page
    .locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: 'demo' })
    .first();
  await row.waitFor({ timeout: 15_000 });
  await row.click();
}

/** Checks that an update's output is all there: every step and the last line. */
function assertComplete(output, version, where) {
  for (let i = 1; i <= 6; i++)
    assert.match(output, new RegExp(`demo-update: step ${i}/6`), `${where}: step ${i}`);
  assert.match(
    output,
    new RegExp(`demo-update: done, version ${version}`),
    `${where}: the last line`,
  );
}

/**
 * The phases a kill can land in. Each sets its phase up and returns the longest random delay
 * before the kill, and `after`, which waits for what must happen without the window and checks it.
 */
const PHASES = {
  async 'holding the lock, server running'() {
    return { maxDelayMs: 1500, update: false, after: async () => {} };
  },

  async 'own update waiting for the lock'(f, page) {
    const blocker = startCli([
      'run',
      f.toolchain,
      '--lock-dir',
      f.lockDir,
      '--purpose',
      'e2e blocker',
      '--',
      process.execPath,
      '-e',
      'setInterval(() => {}, 1000)',
    ]);
    await waitFor('the blocking CLI reader', () =>
      readersOf(f.lockDir, f.toolchain).some((h) => h.client === 'cli'),
    );
    await startOwnUpdate(page);
    await waitFor("this window's update waiting for the write lock", () =>
      lockOf(f.lockDir, f.toolchain)?.waiting.some(
        (h) => h.mode === 'write' && h.client === 'vscode',
      ),
    );
    return {
      maxDelayMs: 1000,
      update: false,
      async after() {
        // The dead window's intent is withdrawn by the kernel (its gate) and `status` (its record).
        await waitFor(
          "the dead window's update intent to be gone",
          () => lockOf(f.lockDir, f.toolchain)?.writer === null,
        );
        blocker.child.kill('SIGTERM');
        const r = await within(30_000, 'the blocking reader to exit', blocker.exited);
        assert.equal(r.code, 143, blocker.output());
      },
    };
  },

  async 'own update running'(f, page) {
    const logs = updateLogs(f);
    const version = Number(versionOf(f)) + 1;
    await startOwnUpdate(page);
    await waitFor('the update command to run', () => versionOf(f) === 'updating');
    return {
      maxDelayMs: 2000,
      update: true,
      async after() {
        await waitFor(
          'the update to finish without its window',
          () => versionOf(f) === String(version),
          { timeoutMs: 90_000 },
        );
        const added = updateLogs(f).filter((l) => !logs.includes(l));
        assert.equal(added.length, 1, `one new update log: ${added.join(', ')}`);
        assertComplete(fs.readFileSync(added[0], 'utf8'), version, `the update log ${added[0]}`);
      },
    };
  },

  async 'CLI update waiting for the window'(f) {
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
    const version = Number(versionOf(f)) + 1;
    await waitFor(
      'the CLI update to announce itself',
      () => lockOf(f.lockDir, f.toolchain)?.writer?.client === 'cli',
    );
    return { maxDelayMs: 300, update: true, after: () => cliFinished(cli, version) };
  },

  async 'CLI update running'(f) {
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
    const version = Number(versionOf(f)) + 1;
    await waitFor('the CLI update to run', () => versionOf(f) === 'updating', {
      timeoutMs: 90_000,
    });
    return { maxDelayMs: 2000, update: true, after: () => cliFinished(cli, version) };
  },
};

async function cliFinished(cli, version) {
  const r = await within(90_000, 'the CLI update to finish', cli.exited);
  assert.equal(r.code, 0, cli.output());
  assertComplete(r.stdout, version, 'the CLI update');
}

/** After a kill: a new extension host, by itself or because we accepted code-server's offer. */
async function recover(f, page, victim, name) {
  return waitFor(
    'a new extension host, or the offer to restart one',
    async () => {
      if (extensionHostsOf(f.server).some((pid) => pid !== victim)) return 'by code-server itself';
      const offer = page
        .locator('.notifications-toasts .notification-toast', {
          hasText: 'terminated unexpectedly',
        })
        .locator('.monaco-button', { hasText: /Restart (Remote )?Extension Host/ });
      if ((await offer.count()) === 0) return false;
      await toastsSettled(page);
      await screenshot(page, `${name}-restart-offered`);
      await offer.first().click();
      return 'on our click of its offer';
    },
    { intervalMs: 100 },
  );
}

export function hostKillScenario(getVsix) {
  describe('the extension host SIGKILLed at random points', () => {
    let f;
    let page;
    const explain = (name, body) =>
      explainFailure({ server: f.server, lockDir: f.lockDir, page, name }, body);

    before(async () => {
      f = await startFixture({ name: 'host-kill', vsixes: [getVsix()] });
      page = await f.openWindow();
    });
    after(() => stopFixture(f));

    test('9. an update outlives its window; no lock or record is left; the window comes back', (t) =>
      explain('e2e-9', async () => {
        // Every phase once, in a random order: 5 kills, so code-server's offer comes too.
        const plan = Object.keys(PHASES).sort(() => Math.random() - 0.5);
        const counts = { kills: 0, restarts: {}, updatesCompleted: 0, writeHeldAfterKill: 0 };
        for (const [i, name] of plan.entries()) {
          const shot = `e2e-9-${i + 1}`;
          const [before] = await steady(f, [page]);
          const versionBefore = versionOf(f);
          const phase = await PHASES[name](f, page);
          await sleep(between(0, phase.maxDelayMs));
          const hosts = extensionHostsOf(f.server);
          assert.deepEqual(hosts, [before.host], 'one extension host: the one holding the lock');
          process.kill(before.host, 'SIGKILL');
          counts.kills++;
          // The update goes on holding the write lock without its window (the lock is read first:
          // if the update still runs after that read, it ran during it).
          const seen = lockOf(f.lockDir, f.toolchain);
          if (versionOf(f) === 'updating') {
            assert.equal(
              seen.state,
              'write',
              `${name}: the update holds the write lock after its window died`,
            );
            // Status names a process that really runs it (issue 11 item 2), not only the dead host.
            assert.ok(
              [seen.writer.pid, ...seen.writer.children].some(isAlive),
              `${name}: ${JSON.stringify(seen.writer)}`,
            );
            counts.writeHeldAfterKill++;
          }
          await screenshot(
            page,
            `${shot}-host-killed-${name.toLowerCase().replace(/[^a-z]+/g, '-')}`,
          );
          const how = await recover(f, page, before.host, shot);
          counts.restarts[how] = (counts.restarts[how] ?? 0) + 1;
          await phase.after();
          if (phase.update) counts.updatesCompleted++;
          else assert.equal(versionOf(f), versionBefore, `${name}: no update ran`);
          const [now] = await steady(f, [page]);
          await screenshot(page, `${shot}-back`);
          assert.notEqual(now.host, before.host, 'a new extension host holds the lock');
          assert.equal(
            isAlive(before.server),
            false,
            `the dead window's server ${before.server} is gone`,
          );
          // Nothing left behind: only the new window holds the lock, nobody the gate, and its
          // record is the only one once `status` has looked (lockOf did).
          const s = lockOf(f.lockDir, f.toolchain);
          assert.deepEqual(
            [s.holders.map((h) => h.pid), s.waiting],
            [[now.host], []],
            `${name}: ${JSON.stringify(s)}`,
          );
          assert.ok(free(s.gateFile, 'write'), `${name}: nobody holds the gate`);
          assert.ok(free(s.lockFile, 'read'), `${name}: nobody holds the lock for write`);
          assert.equal(
            recordFiles(f).length,
            1,
            `${name}: one record, the new window's: ${recordFiles(f).join(', ')}`,
          );
          t.diagnostic(
            `kill ${i + 1}: ${name}; extension host restarted ${how}${phase.update ? '; the update completed' : ''}`,
          );
        }
        // All done: with code-server gone, no lock is held, nobody is reported holding or waiting,
        // and what a killed last host left is only dead records, which `clean` removes (status
        // only looks, PROTOCOL.md §4.2).
        await f.browser.close();
        await f.server.stop();
        const s = cliStatus(f.lockDir).toolchains.find((x) => x.path === f.toolchain);
        assert.deepEqual([s.holders, s.waiting, s.writer], [[], [], null], JSON.stringify(s));
        const locksHeld = [s.lockFile, s.gateFile].filter((file) => !free(file, 'write'));
        const dead = recordFiles(f);
        const cleaned = cliClean(f.lockDir)
          .removed.map((r) => path.basename(r.file))
          .filter((file) => file.endsWith('.json'));
        assert.deepEqual(
          cleaned.sort(),
          [...dead].sort(),
          'clean removed exactly the records left behind',
        );
        const recordsLeft = recordFiles(f);
        t.diagnostic(
          `extension host killed ${counts.kills} times; restarted ${Object.entries(counts.restarts)
            .map(([k, n]) => `${n}× ${k}`)
            .join(', ')}; ` +
            `updates completed after their window died: ${counts.updatesCompleted} (write lock seen held after the kill: ${counts.writeHeldAfterKill}); ` +
            `locks left held: ${locksHeld.length}; records left: ${recordsLeft.length}`,
        );
        assert.deepEqual(locksHeld, []);
        assert.deepEqual(recordsLeft, []);
        assert.equal(s.state, 'free');
      }));
  });
}
