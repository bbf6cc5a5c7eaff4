// rust-analyzer under the lock, in code-server, with the stand-in extension rust-lang.rust-analyzer
// (test/fixtures/fake-rust-analyzer: same id, commands, settings and API shape as the real one)
// whose server runs a real rust-analyzer-proc-macro-srv copied into a private rustup home. A
// sampler watches, from before code-server starts, which of its processes run and who holds the
// toolchain's lock; the update commands themselves list the processes alive when they start and end.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { addProcMacroSrv, processesOf } from '../fixtures/fake-rust-analyzer/toolchain.mjs';
import { startFixture, stopFixture } from './fixture.mjs';
import { screenshot } from './harness.mjs';
import {
  explainFailure,
  lockOf,
  notificationTexts,
  readersOf,
  repoRoot,
  sleep,
  startCli,
  statusView,
  tempDir,
  waitFor,
  within,
} from './support.mjs';

const triple = `${{ x64: 'x86_64', arm64: 'aarch64' }[process.arch]}-unknown-linux-gnu`;

/** The stand-in packaged as a VSIX (vsce, as for our own). */
function packageStandIn(dir) {
  const src = path.join(repoRoot, 'test', 'fixtures', 'fake-rust-analyzer');
  const work = path.join(dir, 'fake-rust-analyzer');
  fs.mkdirSync(work);
  for (const name of ['package.json', 'extension.js', 'server.js'])
    fs.copyFileSync(path.join(src, name), path.join(work, name));
  fs.writeFileSync(path.join(work, 'README.md'), 'Test stand-in for rust-analyzer.\n');
  fs.writeFileSync(path.join(work, 'LICENSE'), 'MIT\n');
  const out = path.join(dir, 'fake-rust-analyzer.vsix');
  const r = spawnSync(
    path.join(repoRoot, 'node_modules', '.bin', 'vsce'),
    ['package', '--allow-missing-repository', '--out', out],
    { cwd: work, encoding: 'utf8', timeout: 120_000 },
  );
  if (r.status !== 0) throw new Error(`vsce package failed: ${r.stdout}${r.stderr}`);
  return out;
}

/** Where the stand-in's server script is once installed in `extensionsDir`. */
const serverScriptIn = (extensionsDir) =>
  path.join(extensionsDir, 'rust-lang.rust-analyzer-0.0.1', 'server.js');

/**
 * An update command (a `node -e` script): lists the live processes of the proc-macro server `exe`
 * and of the stand-in server running `serverJs` (this run's, by its full path) when it starts and
 * when it ends. It ends after `seconds`, or earlier once the file `out.end` exists: a test that
 * needs the update to last while it does something ends it then, however slow the machine. The
 * path is inside the script, never an argument of its own, so that neither the check nor the CLI
 * running it counts as a server.
 */
const check = (serverJs) => `
const fs = require('fs');
const serverJs = ${JSON.stringify(serverJs)};
const [exe, out, seconds] = process.argv.slice(1);
const alive = () => fs.readdirSync('/proc').filter((n) => /^\\d+$/.test(n)).filter((n) => {
  try {
    if (/^\\d+ \\(.*\\) [ZX] /.test(fs.readFileSync('/proc/' + n + '/stat', 'utf8'))) return false;
    return fs.readlinkSync('/proc/' + n + '/exe') === exe || fs.readFileSync('/proc/' + n + '/cmdline', 'utf8').split('\\0').includes(serverJs);
  } catch { return false; }
}).map(Number);
const atStart = alive();
const until = Date.now() + Number(seconds) * 1000;
const tick = setInterval(() => {
  if (Date.now() < until && !fs.existsSync(out + '.end')) return;
  clearInterval(tick);
  fs.writeFileSync(out, JSON.stringify({ atStart, atEnd: alive() }));
}, 20);
`;

/**
 * Runs a palette command by clicking the row with exactly this title: Enter would take the first
 * row, which may be a recently used command that also matches ("Restart server" for "Stop server").
 */
async function runExactly(page, title) {
  const input = page.locator('.quick-input-widget input');
  await page.keyboard.press('F1');
  await input.waitFor({ timeout: 15_000 });
  await input.fill(`>${title}`);
  const row = page.locator('.quick-input-list .monaco-list-row').filter({
    has: page.locator('.label-name', {
      hasText: new RegExp(`^${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`),
    }),
  });
  await row.first().click({ timeout: 15_000 });
  await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 15_000 });
}

/** The stand-in's own log (its output channel), for failure messages. */
function standInLog(userDataDir) {
  const out = [];
  const walk = (dir) => {
    for (const e of fs.existsSync(dir) ? fs.readdirSync(dir, { withFileTypes: true }) : []) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/rust-analyzer \(stand-in\)/.test(e.name))
        out.push(`--- ${p}\n${fs.readFileSync(p, 'utf8')}`);
    }
  };
  walk(path.join(userDataDir, 'logs'));
  return out.join('\n');
}

export function rustAnalyzerScenario(getVsix) {
  describe('rust-analyzer (stand-in with the real proc-macro server) under the lock', () => {
    let f;
    let page;
    let dirs;
    let sampler;
    const samples = [];
    /** This run's stand-in script; set before code-server starts (nothing can run it before). */
    let serverJs = null;
    const servers = () =>
      fs
        .readdirSync('/proc')
        .filter((n) => /^\d+$/.test(n))
        .filter((n) => {
          try {
            // An argument of its own: the update commands here carry the name inside a script.
            // The full path: another run's stand-in (another extensions dir) is not this one.
            return (
              serverJs !== null &&
              fs.readFileSync(`/proc/${n}/cmdline`, 'utf8').split('\0').includes(serverJs) &&
              !/^\d+ \(.*\) [ZX] /.test(fs.readFileSync(`/proc/${n}/stat`, 'utf8'))
            );
          } catch {
            return false;
          }
        })
        .map(Number);
    const sample = () => ({
      at: Date.now(),
      procMacro: processesOf(dirs.procMacroSrv),
      servers: servers(),
      readers: readersOf(dirs.lockDir, dirs.toolchain).length,
      writing: lockOf(dirs.lockDir, dirs.toolchain)?.state === 'write',
    });
    /**
     * Runs an update through the CLI whose command checks for the stand-in's processes. It lasts
     * `seconds`, or until `end()`.
     */
    const update = (seconds) => {
      const out = path.join(dirs.root, `check-${Date.now()}.json`);
      const cli = startCli([
        'update',
        dirs.toolchain,
        '--lock-dir',
        dirs.lockDir,
        '--',
        process.execPath,
        '-e',
        check(serverJs),
        dirs.procMacroSrv,
        out,
        String(seconds),
      ]);
      return {
        cli,
        end: () => fs.writeFileSync(`${out}.end`, ''),
        done: async () => {
          const r = await within(120_000, 'the update', cli.exited);
          assert.equal(r.code, 0, cli.output());
          return JSON.parse(fs.readFileSync(out, 'utf8'));
        },
      };
    };

    before(async () => {
      const root = tempDir('tcl-e2e-ra-');
      const rustupHome = path.join(root, 'rustup');
      const toolchain = path.join(rustupHome, 'toolchains', `stable-${triple}`);
      fs.mkdirSync(path.join(toolchain, 'bin'), { recursive: true });
      const procMacroSrv = fs.realpathSync(addProcMacroSrv(toolchain));
      dirs = {
        root,
        toolchain: fs.realpathSync(toolchain),
        procMacroSrv,
        lockDir: path.join(root, 'locks'),
      };
      fs.mkdirSync(dirs.lockDir);
      // From before code-server starts: nothing may run before the window holds the lock.
      sampler = setInterval(() => samples.push(sample()), 25);
      sampler.unref();
      f = await startFixture({
        name: 'ra',
        vsixes: [packageStandIn(root), getVsix()],
        demo: false,
        files: {
          'Cargo.toml': '[package]\nname = "p"\nversion = "0.1.0"\n',
          'rust-toolchain.toml': '[toolchain]\nchannel = "stable"\n',
        },
        settings: { 'rust-analyzer.procMacro.server': procMacroSrv },
        env: (fixture) => {
          serverJs = serverScriptIn(fixture.extensions);
          return { RUSTUP_HOME: rustupHome, TOOLCHAIN_LOCK_DIR: dirs.lockDir };
        },
      });
      page = await f.openWindow();
    });
    after(async () => {
      clearInterval(sampler);
      await stopFixture(f);
      fs.rmSync(dirs.root, { recursive: true, force: true });
    });

    const steady = (n) =>
      waitFor(`${n} window(s) running the stand-in under the read lock`, (saw) => {
        const s = sample();
        saw(s);
        return s.readers === n && s.procMacro.length === n && s.servers.length === n;
      });
    const ctx = (name) => ({ server: f.server, lockDir: dirs.lockDir, page, name });
    /** explainFailure, plus the stand-in's log. */
    const explain = (name, body) =>
      explainFailure(ctx(name), body).catch((err) => {
        err.message += `\n${standInLog(f.userData)}`;
        throw err;
      });

    test('at startup it runs only once the window holds the read lock', () =>
      explain('e2e-ra-startup', async () => {
        await steady(1);
        const early = samples.filter(
          (s) => s.procMacro.length + s.servers.length > 0 && s.readers === 0,
        );
        assert.deepEqual(early, [], 'no sample with a server and no read lock');
        await screenshot(page, 'e2e-ra-steady');
      }));

    test('the update starts only once server and proc-macro server are gone; a restart meanwhile is stopped again, with a notification', () =>
      explain('e2e-ra-restart-during-update', async () => {
        const u = update(120);
        await waitFor(
          'the update to run',
          () => lockOf(dirs.lockDir, dirs.toolchain)?.state === 'write',
        );
        await runExactly(page, 'rust-analyzer: Restart server');
        await waitFor('the notification', async () =>
          (await notificationTexts(page)).some((t) =>
            /rust-analyzer was started while toolchain stable is being updated .*stopped it again/.test(
              t,
            ),
          ),
        );
        await waitFor('the restarted server stopped again', () => {
          const s = sample();
          return s.writing && s.procMacro.length === 0 && s.servers.length === 0;
        });
        await screenshot(page, 'e2e-ra-restart-stopped');
        u.end();
        const check = await u.done();
        assert.deepEqual(
          check,
          { atStart: [], atEnd: [] },
          'no server process when the update started or ended',
        );
        await steady(1);
      }));

    test("the user's own stop is respected: its lock goes and the next update does not start it", () =>
      explain('e2e-ra-user-stop', async () => {
        await runExactly(page, 'rust-analyzer: Stop server');
        await waitFor('stopped, lock released', () => {
          const s = sample();
          return s.readers === 0 && s.procMacro.length === 0 && s.servers.length === 0;
        });
        await u_update(2);
        const after = Date.now();
        await waitFor('a moment after the update', () => Date.now() - after > 2000);
        assert.deepEqual(
          samples.filter((s) => s.at > after && s.procMacro.length + s.servers.length > 0),
          [],
          'still stopped after the update',
        );
        await runExactly(page, 'rust-analyzer: Start server');
        await steady(1);
      }));

    async function u_update(seconds) {
      const check = await update(seconds).done();
      assert.deepEqual(check, { atStart: [], atEnd: [] });
    }

    test('a second window opened during an update runs nothing until the update ends', () =>
      explain('e2e-ra-second-window', async () => {
        const u = update(120);
        await waitFor(
          'the update to run',
          () => lockOf(dirs.lockDir, dirs.toolchain)?.state === 'write',
        );
        const from = Date.now();
        const second = await f.openWindow();
        try {
          // The second window's extension is up and queued behind the update; it stays so a while.
          await waitFor('the second window waiting for the read lock', () =>
            (lockOf(dirs.lockDir, dirs.toolchain)?.waiting ?? []).some((h) => h.mode === 'read'),
          );
          await sleep(2000);
          u.end();
          const check = await u.done();
          assert.deepEqual(check, { atStart: [], atEnd: [] });
          assert.deepEqual(
            samples.filter(
              (s) => s.at > from && s.writing && s.procMacro.length + s.servers.length > 0,
            ),
            [],
            'no server ran during the update',
          );
          await steady(2);
        } finally {
          await second.close();
        }
        await steady(1);
      }));

    test('a server its extension gave up on is shown as failed', () =>
      explain('e2e-ra-give-up', async () => {
        for (let i = 0; i < 5; i++) {
          const [pid] = await waitFor(`server ${i + 1}`, () => {
            const s = servers();
            return s.length === 1 && s;
          });
          // Up, not still initializing: a server that dies then is not restarted at all (as with vscode-languageclient).
          await waitFor(`server ${pid} running`, () =>
            standInLog(f.userData).includes(`server running pid ${pid}\n`),
          );
          process.kill(pid, 'SIGKILL');
          await waitFor(`server ${pid} gone`, () => !servers().includes(pid));
        }
        await waitFor('the failure notification', async () =>
          (await notificationTexts(page)).some((t) =>
            /rust-analyzer is not running on toolchain stable: .*gave up on it/.test(t),
          ),
        );
        await waitFor('a warning in the status bar', async () =>
          (await statusView(page)).icons.some((c) => c.includes('codicon-warning')),
        );
        await waitFor(
          'its lock released',
          () => readersOf(dirs.lockDir, dirs.toolchain).length === 0,
        );
        await screenshot(page, 'e2e-ra-give-up');
      }));
  });
}
