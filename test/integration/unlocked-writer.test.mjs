// Updates without a lock, with the real rustup on the test bed (test/fixtures/rustup-testbed.mjs):
// a plain `rustup update stable` is seen by `watch --json` (unlocked-change started/done, the
// writer named from the process table) and by `status --json` (unlockedWriter) while it lasts;
// the same update through `toolchain-lock rustup`, and reads of the toolchain, are not. The real
// rust-analyzer-proc-macro-srv of the bed's toolchain is named and waited for by the wrapper.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { BLOCKED_MS, cli, start, statusOf } from '../fixtures/cli-harness.mjs';
import { testbedOrSkip } from '../fixtures/rustup-testbed.mjs';
import { PROC_MACRO_SRV, startServer } from '../fixtures/toolchain-copy.mjs';

async function bedWithWatch(t) {
  const bed = await testbedOrSkip(t, { releases: 2 });
  if (!bed) return null;
  const env = { ...bed.env, TOOLCHAIN_LOCK_DIR: path.join(bed.root, 'locks') };
  const watcher = start(['watch', '--json', 'stable'], { env });
  t.after(() => watcher.kill('SIGKILL'));
  await watcher.waitFor('stderr', /watching .* for lock events/);
  const events = () =>
    watcher.out.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  return { bed, env, watcher, events };
}

test('a plain rustup update is an update without a lock: watch says started and done, status names rustup meanwhile', async (t) => {
  const s = await bedWithWatch(t);
  if (!s) return;
  const { bed, env, watcher, events } = s;
  bed.publish(2);
  const update = bed.rustup(['update', 'stable']);
  await watcher.waitFor('stdout', /"event":"unlocked-change","phase":"started"/, 60_000);
  const started = events().find((e) => e.event === 'unlocked-change');
  assert.deepEqual(Object.keys(started), [
    'protocol',
    'time',
    'event',
    'phase',
    'key',
    'toolchain',
    'writer',
  ]);
  assert.equal(started.toolchain.path, bed.toolchainDir('stable'));
  assert.equal(started.writer.evidence, 'rustup');
  assert.deepEqual(started.writer.command.slice(1), ['update', 'stable']);
  // While rustup runs, a one-shot status names it too (from the process table).
  const during = (await statusOf(env, 'stable')).toolchains[0];
  assert.equal(during.state, 'free');
  assert.equal(
    during.unlockedWriter?.pid,
    started.writer.pid,
    JSON.stringify(during.unlockedWriter),
  );
  assert.match(
    (await cli(['status', 'stable'], { env })).stdout,
    new RegExp(`being changed outside Toolchain Lock by rustup \\(pid ${started.writer.pid}`),
  );
  const r = await update;
  assert.equal(r.code, 0, r.stderr);
  await watcher.waitFor('stdout', /"event":"unlocked-change","phase":"done"/, 30_000);
  const done = events().filter((e) => e.event === 'unlocked-change');
  assert.deepEqual(
    done.map((e) => e.phase),
    ['started', 'done'],
  );
  assert.equal(done[1].writer.pid, started.writer.pid);
  assert.match(bed.marker('stable'), /release 2 /);
  assert.equal((await statusOf(env, 'stable')).toolchains[0].unlockedWriter, null);
});

test('the same update through toolchain-lock rustup, and reads of the toolchain, are no update without a lock', async (t) => {
  const s = await bedWithWatch(t);
  if (!s) return;
  const { bed, env, watcher, events } = s;
  // Reads: rustc runs from the toolchain (opens, maps, reads files), and so does the proc-macro server.
  assert.equal((await bed.exec('rustc', ['--version'])).code, 0);
  const srv = path.join(bed.toolchainDir('stable'), PROC_MACRO_SRV);
  const server = await startServer([srv], { env, exe: srv });
  server.proc.child.stdin.end();
  await server.proc.result();
  bed.publish(2);
  const r = await cli(['rustup', 'update', 'stable'], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.match(bed.marker('stable'), /release 2 /);
  await watcher.waitFor('stdout', /"event":"update-done"/);
  // Late events of the locked update must not pass for a change without a lock either.
  await new Promise((resolve) => setTimeout(resolve, BLOCKED_MS * 5));
  assert.deepEqual(
    events().filter((e) => e.event === 'unlocked-change'),
    [],
  );
  assert.ok(events().some((e) => e.event === 'update-started'));
});

test('the rustup wrapper names the real proc-macro server of the toolchain, waits for it, then updates', async (t) => {
  const bed = await testbedOrSkip(t, { releases: 2 });
  if (!bed) return;
  const env = { ...bed.env, TOOLCHAIN_LOCK_DIR: path.join(bed.root, 'locks') };
  const srv = path.join(bed.toolchainDir('stable'), PROC_MACRO_SRV);
  const server = await startServer([srv], { env, exe: srv });
  bed.publish(2);
  const wrapper = start(['rustup', '--unlocked-timeout', '120', 'update', 'stable'], { env });
  await wrapper.waitFor(
    'stderr',
    new RegExp(
      `running without a lock: stable-\\S+: ${srv.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\(pid ${server.pid}, since \\S+, user \\S+\\); waiting up to 120 s`,
    ),
  );
  assert.match(bed.marker('stable'), /release 1 /, 'rustup has not run yet');
  server.proc.child.stdin.end();
  const r = await wrapper.result(120_000);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /they have exited; the update starts/);
  assert.match(bed.marker('stable'), /release 2 /);
});
