// A real plain `rustup update stable` on the test bed (no lock) while this window runs a real
// managed LSP server on that toolchain, whose helper is the toolchain's real proc-macro server (as
// rust-analyzer runs it): the server stops as soon as the window sees rustup at work, stays
// stopped while rustup changes it, and comes back afterwards with a new pid; one notification hook.
// With the dist on this machine, rustup's downloads take milliseconds and the server may still be
// going at the first change (reported, not asserted); with downloads that take as long as a network
// makes them, it is gone before rustup moves a file (asserted).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { test } from 'node:test';
import { testbedOrSkip } from '../fixtures/rustup-testbed.mjs';
import {
  cleanup,
  bundleForFile,
  fakeServerPath,
  fakeVscodePath,
  MANAGED_ENTRY,
  memoryLog,
  sleep,
  until,
} from './extension-harness.mjs';

const require = createRequire(import.meta.url);
const lib = bundleForFile('unlocked', MANAGED_ENTRY, { vscodeFake: fakeVscodePath });

/** True while `pid` runs (a zombie left for a parent or an init that never reaps has exited). */
function running(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]$/.test(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]);
  } catch {
    return false;
  }
}

/** Whether `pid`'s parent is a rustup (which runs the new `rustc --version` as it finishes). */
function childOfRustup(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ppid = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1];
    return path.basename(fs.readlinkSync(`/proc/${ppid}/exe`)) === 'rustup';
  } catch {
    return false;
  }
}

/**
 * Processes whose executable lies inside `root` (what "runs from the toolchain" means here), but
 * for the ones rustup itself runs.
 */
function runningFrom(root) {
  const out = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const exe = fs.readlinkSync(`/proc/${name}/exe`);
      if (exe.startsWith(`${root}/`) && !childOfRustup(name)) out.push({ pid: Number(name), exe });
    } catch {
      // gone, or not ours
    }
  }
  return out;
}

/**
 * Runs the bed's rustup as a terminal elsewhere would: not a descendant of this process (which
 * holds the read lock as the window does), by a shell that backgrounds it and exits.
 */
async function rustupFromElsewhere(bed, args, env = bed.env) {
  const out = path.join(bed.root, `rustup-${Date.now()}.log`);
  const rc = `${out}.rc`;
  const rustup = path.join(bed.bin, 'rustup');
  const quoted = [rustup, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const sh = spawn(
    'sh',
    [
      '-c',
      `(${quoted} >'${out}' 2>&1; echo $? >'${rc}.tmp'; mv '${rc}.tmp' '${rc}') </dev/null >/dev/null 2>&1 &`,
    ],
    { env, stdio: 'ignore' },
  );
  await new Promise((resolve) => sh.on('exit', resolve));
  await until(() => fs.existsSync(rc), `rustup ${args.join(' ')} to finish`, 300_000);
  return { code: Number(fs.readFileSync(rc, 'utf8')), output: fs.readFileSync(out, 'utf8') };
}

/**
 * A plain `rustup update stable` from elsewhere while a managed server and its helper run from
 * stable; `seen` has, at every change of the toolchain's files, who ran from it. With `networkMs`,
 * the bed's dist is served over HTTP and every request is answered that much later, as over a
 * network.
 */
async function plainUpdate(t, { networkMs } = {}) {
  const bed = await testbedOrSkip(t, { releases: 2 });
  if (!bed) return null;
  const lockDir = path.join(bed.root, 'locks');
  const tc = { name: 'stable', path: bed.toolchainDir('stable') };
  const serverLog = path.join(bed.root, 'server.log');
  const log = memoryLog();
  const vscode = require(fakeVscodePath);
  const output = vscode.window.createOutputChannel('servers-unlocked');
  const unit = new lib.module.ManagedServer(
    {
      id: 'fake-ls',
      toolchain: 'stable',
      command: process.execPath,
      args: [fakeServerPath],
      env: {
        FAKE_LS_LOG: serverLog,
        FAKE_LS_CHILD: '${toolchainPath}/libexec/rust-analyzer-proc-macro-srv',
        RUST_ANALYZER_INTERNALS_DO_NOT_USE: '1',
      },
      documentSelector: [{ language: 'plaintext' }],
    },
    tc,
    { log, output, cwd: bed.root, stopTimeoutMs: () => 3000 },
  );
  const outside = [];
  const coordinator = new lib.module.LockCoordinator({
    lockDir,
    pollIntervalMs: 200,
    stopTimeoutMs: () => 3000,
    log,
    hooks: {
      onUnlockedChange(info) {
        const note = { ...info, at: Date.now(), doneAt: null };
        outside.push(note);
        return () => (note.doneAt = Date.now());
      },
    },
  });
  cleanup(t, async () => {
    await coordinator.dispose();
    if (unit.pid)
      try {
        process.kill(-unit.pid, 'SIGKILL');
      } catch {}
  });
  const helpers = () =>
    fs.existsSync(serverLog)
      ? [...fs.readFileSync(serverLog, 'utf8').matchAll(/^\d+ helper (\d+)$/gm)].map((m) =>
          Number(m[1]),
        )
      : [];

  await coordinator.setUnits([unit]);
  await until(
    () =>
      log.has('server fake-ls started pid=') &&
      helpers().length === 1 &&
      runningFrom(tc.path).length === 1,
    'server and its helper up',
  );
  const pid1 = unit.pid;
  const [helper1] = helpers();
  assert.deepEqual(
    runningFrom(tc.path).map((p) => p.pid),
    [helper1],
  );

  // Our own look at the toolchain's files (node's inotify, not the module's): at every change, who runs from it.
  const seen = [];
  const dirs = ['bin', 'lib', 'libexec', 'lib/rustlib'].map((d) => path.join(tc.path, d));
  const watchers = dirs.map((d) =>
    fs.watch(d, () => {
      // The helper's exe may point into $RUSTUP_HOME/tmp once rustup moved its file: ask by pid too.
      seen.push({
        at: Date.now(),
        running: runningFrom(tc.path).map((p) => p.pid),
        server: running(pid1),
        helper: running(helper1),
        unlockedChange: coordinator.snapshot()[0]?.unlockedChange ?? null,
      });
    }),
  );
  cleanup(t, () => watchers.forEach((w) => w.close()));
  // When the server and its helper were gone, from the first change on: changes come in bursts, with
  // silences (downloads) between them.
  let goneAt = null;
  const poll = setInterval(() => {
    if (seen.length > 0 && goneAt === null && !running(pid1) && !running(helper1))
      goneAt = Date.now();
  }, 5);
  cleanup(t, () => clearInterval(poll));

  bed.publish(2);
  let env = bed.env;
  if (networkMs !== undefined) {
    const served = await bed.serve({
      onRequest: async (p) => {
        await sleep(networkMs);
      },
    });
    cleanup(t, () => served.close());
    env = served.env;
  }
  const r = await rustupFromElsewhere(bed, ['update', 'stable'], env);
  assert.equal(r.code, 0, r.output);
  assert.match(bed.marker('stable'), /release 2 /);
  assert.ok(seen.length > 10, `rustup changed the toolchain (${seen.length} events)`);
  const runs = (x) => x.running.length > 0 || x.server || x.helper;
  clearInterval(poll);
  return { bed, unit, pid1, helper1, helpers, outside, coordinator, log, seen, runs, tc, goneAt };
}

/** The server is back with a new pid and a new helper from the updated toolchain; one notification hook. */
async function comesBack({ unit, pid1, helper1, helpers, outside, coordinator, log, tc }) {
  await until(
    () => outside.length === 1 && outside[0].doneAt !== null,
    'the change is over and the servers are back',
    60_000,
  );
  assert.equal(outside[0].writer.evidence, 'rustup');
  assert.deepEqual(outside[0].writer.command.slice(1), ['update', 'stable']);
  assert.deepEqual(outside[0].units, ['fake-ls']);
  await until(
    () => unit.pid !== undefined && unit.pid !== pid1 && helpers().length === 2,
    'restart with a new pid',
  );
  assert.ok(running(unit.pid));
  await until(
    () => runningFrom(tc.path).length === 1,
    'the new helper runs from the updated toolchain',
  );
  assert.notEqual(helpers()[1], helper1);
  assert.equal(coordinator.snapshot()[0].unlockedChange, null);
  assert.ok(log.has('is being changed outside Toolchain Lock by rustup'), log.lines.join('\n'));
}

test('a plain rustup update: the managed server and its proc-macro helper stop while rustup changes the toolchain, stay stopped, and come back after', async (t) => {
  const u = await plainUpdate(t);
  if (!u) return;
  const { seen, runs } = u;
  // rustup 1.29 moves the old files right after fetching the manifest, so the window's head start
  // (rustup's tmp/downloads) can be milliseconds: the server may still be going at the first
  // change. It must be gone while rustup still changes the toolchain, and never come back before the end.
  const gone = seen.findIndex((x) => !runs(x));
  assert.ok(
    gone >= 0,
    'the server and its helper went away while rustup was changing the toolchain',
  );
  assert.deepEqual(
    seen.slice(gone).filter(runs),
    [],
    'nothing of the server ran again until rustup was done',
  );
  t.diagnostic(
    `the server and its helper were gone ${u.goneAt - seen[0].at} ms after rustup's first change to the toolchain (${seen.filter((x) => x.at < u.goneAt).length} of ${seen.length} changes seen before)`,
  );
  assert.equal(seen[gone].unlockedChange?.writer?.evidence, 'rustup', 'the window knew who writes');
  await comesBack(u);
});

test('a plain rustup update over a network that takes its time: the server and its helper are gone before rustup changes the first file', async (t) => {
  // rustup 1.29 moves the old files right after it fetched the channel's manifest, before it
  // downloads a component; the window sees it start in rustup's own directories. Over a network
  // that fetch is a TLS round trip and about 1 MB: 400 ms a request here (a fast line).
  const u = await plainUpdate(t, { networkMs: 400 });
  if (!u) return;
  const { seen, runs } = u;
  assert.deepEqual(
    seen.filter(runs),
    [],
    'nothing of the server ran from the toolchain at any change rustup made to it',
  );
  assert.equal(seen[0].unlockedChange?.writer?.evidence, 'rustup', 'the window knew who writes');
  await comesBack(u);
});
