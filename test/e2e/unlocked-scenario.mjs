// Scenario 9: a plain `rustup update stable` (no lock) on the real-rustup test bed while a
// code-server window runs a managed LSP server on that toolchain, whose helper is the toolchain's
// real proc-macro server (as rust-analyzer runs it). The window stops the server as soon as it
// sees rustup at work, keeps it stopped while rustup changes the toolchain, says who writes in the status bar and one notification, and
// starts it again with a new pid once rustup is done and the toolchain is whole.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { rustupTestbed } from '../fixtures/rustup-testbed.mjs';
import { startFixture, stopFixture } from './fixture.mjs';
import { screenshot } from './harness.mjs';
import {
  explainFailure,
  isAlive,
  notificationTexts,
  repoRoot,
  toastsSettled,
  waitFor,
  waitForStatus,
} from './support.mjs';

const fakeLs = path.join(repoRoot, 'test', 'unit', 'extension-fake-ls.cjs');

/** Pids of the processes whose executable is `exe` and that have not exited. */
function pidsOf(exe) {
  const out = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      if (
        fs.readlinkSync(`/proc/${name}/exe`) === exe &&
        !/^[ZX]$/.test(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0])
      )
        out.push(Number(name));
    } catch {
      // gone, or not ours
    }
  }
  return out;
}

export function unlockedScenario(getVsix) {
  describe('a plain rustup update without the lock', () => {
    let f;
    let page;
    let bed;
    const explain = (name, body) =>
      explainFailure({ server: f.server, lockDir: f.lockDir, page, name }, body);

    before(async () => {
      bed = await rustupTestbed({ releases: 2 });
      const serverLog = path.join(bed.root, 'server.log');
      const server = {
        id: 'stable-ls',
        toolchain: 'stable',
        command: process.execPath,
        args: [fakeLs],
        env: {
          FAKE_LS_LOG: serverLog,
          FAKE_LS_CHILD: '${toolchainPath}/libexec/rust-analyzer-proc-macro-srv',
          RUST_ANALYZER_INTERNALS_DO_NOT_USE: '1',
        },
        documentSelector: [{ language: 'plaintext' }],
      };
      const { RUSTUP_HOME, CARGO_HOME, PATH } = bed.env;
      f = await startFixture({
        name: 'unlocked',
        vsixes: [getVsix()],
        demo: false,
        settings: { 'toolchainLock.servers': [server] },
        env: { RUSTUP_HOME, CARGO_HOME, PATH },
      });
      page = await f.openWindow();
    });
    after(async () => {
      await stopFixture(f);
      bed?.cleanup();
    });

    test('9. the server stops while rustup changes the toolchain, the window says who writes, and it comes back after', () =>
      explain('e2e-9', async () => {
        const tc = bed.toolchainDir('stable');
        const helperExe = path.join(tc, 'libexec', 'rust-analyzer-proc-macro-srv');
        const [helper1] = await waitFor(
          'the server and its proc-macro helper from the toolchain',
          () => pidsOf(helperExe).length === 1 && pidsOf(helperExe),
        );
        await waitForStatus(
          page,
          'stable held, not spinning',
          (v) => /^stable\S* \(1\)$/.test(v.text) && !v.spinning,
        );
        // Our own look at the toolchain's files: at every change, is the helper (or any process of the toolchain) running?
        const seen = [];
        const watchers = ['bin', 'lib', 'libexec', 'lib/rustlib'].map((d) =>
          fs.watch(path.join(tc, d), () =>
            seen.push({
              at: Date.now(),
              helper1: isAlive(helper1) && pidsOf(helperExe).includes(helper1),
              any: pidsOf(helperExe),
            }),
          ),
        );
        bed.publish(2);
        const update = bed.rustup(['update', 'stable']);
        try {
          const note = await waitFor('one notification naming rustup', async (saw) =>
            saw(await notificationTexts(page)).find((t) =>
              /stable\S* is being changed outside Toolchain Lock by rustup \(pid \d+/.test(t),
            ),
          );
          assert.match(note, /stable-ls stopped and will restart when it is over/);
          await waitForStatus(
            page,
            'changed outside, spinning',
            (v) => /changed outside Toolchain Lock \(rustup \(pid \d+/.test(v.text) && v.spinning,
          );
          await toastsSettled(page);
          await screenshot(page, 'e2e-9-changed-outside');
          const r = await update;
          assert.equal(r.code, 0, r.stderr);
        } finally {
          watchers.forEach((w) => w.close());
        }
        assert.match(bed.marker('stable'), /release 2 /);
        assert.ok(seen.length > 10, `rustup changed the toolchain (${seen.length} events)`);
        // rustup moves the old files right after fetching its manifest: the window's head start can
        // be milliseconds, so the helper may still be going at the first change (reported, not asserted).
        const runs = (x) => x.helper1 || x.any.length > 0;
        const gone = seen.findIndex((x) => !runs(x));
        assert.ok(gone >= 0, 'the server went away while rustup was changing the toolchain');
        assert.deepEqual(
          seen.slice(gone).filter(runs),
          [],
          'no server process ran again until rustup was done',
        );
        console.log(
          `e2e-9: first toolchain change to helper gone: ${seen[gone].at - seen[0].at} ms (${gone} of ${seen.length} changes before)`,
        );
        const [helper2] = await waitFor(
          'the server back with a new helper',
          () => pidsOf(helperExe).length === 1 && pidsOf(helperExe),
        );
        assert.notEqual(helper2, helper1);
        await waitForStatus(
          page,
          'stable held again, not spinning',
          (v) => /^stable\S* \(1\)$/.test(v.text) && !v.spinning,
        );
        await waitFor(
          'the notification to go',
          async () =>
            !(await notificationTexts(page)).some((t) =>
              t.includes('being changed outside Toolchain Lock'),
            ),
        );
        const outside = (await notificationTexts(page)).filter((t) =>
          t.includes('outside Toolchain Lock'),
        );
        assert.deepEqual(outside, []);
        await screenshot(page, 'e2e-9-back');
      }));
  });
}
