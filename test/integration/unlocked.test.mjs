// Processes without a lock: the real rust-analyzer-proc-macro-srv, run from a private copy of the
// installed stable toolchain's parts (never from ~/.rustup), is listed by `status` as `unlocked`,
// named by `update` (and by the `rustup` wrapper), waited for, and makes a script's update fail
// with 75. The same server under a read lock (a record's child, plain flock(1), an inherited
// descriptor whose locker died) is not listed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cli, HOST, loggingRustup, sandbox, start, statusOf } from '../fixtures/cli-harness.mjs';
import { copyProcMacroServer, PROC_MACRO_SRV, startServer } from '../fixtures/toolchain-copy.mjs';

function toolchainWithServer(box, name = 'tc') {
  const tc = path.join(box.dir, name);
  const srv = copyProcMacroServer(tc);
  return { tc, srv };
}

const unlockedOf = async (env, tc) => (await statusOf(env, tc)).toolchains[0].unlocked;

test('status lists the real proc-macro server running from the toolchain without a lock, and not one under a lock', async (t) => {
  const box = sandbox(t);
  const { tc, srv } = toolchainWithServer(box);
  const free = await startServer([srv], { env: box.env, exe: srv });
  // Under `toolchain-lock run`: the server is the record's child.
  const viaRun = await startServer(
    [process.execPath, path.resolve('dist/cli.js'), 'run', tc, '--', srv],
    { env: box.env, exe: srv },
  );
  const lockFile = (await statusOf(box.env, tc)).toolchains[0].lockFile;
  // Under plain flock(1): no record; flock holds the lock and its child inherits the descriptor.
  const viaFlock = await startServer(['flock', '-s', lockFile, srv], { env: box.env, exe: srv });

  const listed = await unlockedOf(box.env, tc);
  assert.deepEqual(
    listed.map((p) => p.pid),
    [free.pid],
    JSON.stringify(listed),
  );
  const [p] = listed;
  assert.equal(p.exe, srv);
  assert.equal(p.command[0], srv);
  assert.equal(p.user, (await import('node:os')).userInfo().username);
  assert.ok(Math.abs(Date.parse(p.since) - Date.now()) < 120_000, p.since);
  const text = await cli(['status', tc], { env: box.env });
  assert.match(
    text.stdout,
    new RegExp(
      `no lock +${srv.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\(pid ${free.pid}, since `,
    ),
  );

  // The flock(1) process dies; the server keeps the inherited descriptor and with it the lock.
  process.kill(viaFlock.proc.pid, 'SIGKILL');
  await viaFlock.proc.exited;
  assert.deepEqual(
    (await unlockedOf(box.env, tc)).map((q) => q.pid),
    [free.pid],
  );
  assert.equal((await statusOf(box.env, tc)).toolchains[0].state, 'read');

  // Control: without the lock around it, the same program is listed.
  viaRun.proc.child.stdin.end();
  await viaRun.proc.result();
  free.proc.child.stdin.end();
  await free.proc.result();
  const left = await unlockedOf(box.env, tc);
  assert.deepEqual(left, []);
});

test('update names the process, waits for it and then runs; --unlocked fail and --no-wait exit 75 at once and run nothing', async (t) => {
  const box = sandbox(t);
  const { tc, srv } = toolchainWithServer(box);
  const server = await startServer([srv], { env: box.env, exe: srv });
  const marker = path.join(box.dir, 'ran');
  const touch = [
    process.execPath,
    '-e',
    `require('fs').writeFileSync(${JSON.stringify(marker)}, 'x')`,
  ];
  const named = new RegExp(
    `running without a lock: tc: ${srv.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\(pid ${server.pid}, since \\S+, user \\S+\\)`,
  );

  for (const args of [['--unlocked', 'fail'], ['--no-wait'], ['--unlocked-timeout', '0']]) {
    const r = await cli(['update', tc, ...args, '--', ...touch], { env: box.env });
    assert.equal(r.code, 75, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, named);
    assert.match(r.stderr, /Not updating .*Nothing was run and no lock is held/s);
    assert.equal(fs.existsSync(marker), false);
    assert.equal((await statusOf(box.env, tc)).toolchains[0].state, 'free');
  }
  // A script's choice by environment, for the wrappers it cannot add flags to.
  const byEnv = await cli(['update', tc, '--', ...touch], {
    env: { ...box.env, TOOLCHAIN_LOCK_UNLOCKED: 'fail' },
  });
  assert.equal(byEnv.code, 75, byEnv.stderr);
  assert.equal(fs.existsSync(marker), false);

  // Waiting (the default): named once, and the update starts when the server exits.
  const update = start(['update', tc, '--unlocked-timeout', '60', '--', ...touch], {
    env: box.env,
  });
  await update.waitFor('stderr', /waiting up to 60 s for them to exit/);
  assert.match(update.out.stderr, named);
  assert.equal(fs.existsSync(marker), false);
  server.proc.child.stdin.end();
  const r = await update.result(30_000);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /they have exited; the update starts/);
  assert.equal(fs.existsSync(marker), true);
});

test('--unlocked proceed names the process, waits the bounded time, then updates anyway', async (t) => {
  const box = sandbox(t);
  const { tc, srv } = toolchainWithServer(box);
  const server = await startServer([srv], { env: box.env, exe: srv });
  const r = await cli(
    ['update', tc, '--unlocked', 'proceed', '--unlocked-timeout', '0.5', '--', 'true'],
    { env: box.env },
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`running without a lock: .*pid ${server.pid}`));
  assert.match(r.stderr, /updating anyway \(--unlocked proceed\)/);
  const bad = await cli(['update', tc, '--unlocked', 'maybe', '--', 'true'], { env: box.env });
  assert.equal(bad.code, 64);
  assert.match(bad.stderr, /--unlocked wants wait, proceed or fail, not "maybe"/);
});

test('the rustup wrapper names the process and stops with 75 before rustup changes anything', async (t) => {
  const box = sandbox(t);
  const home = box.env.RUSTUP_HOME;
  const tc = path.join(home, 'toolchains', `stable-${HOST}`);
  const srv = copyProcMacroServer(tc);
  // This test is about what runs before rustup, never rustup itself.
  const { env, log } = loggingRustup(box);
  const server = await startServer([srv], { env, exe: srv });
  const r = await cli(['rustup', '--unlocked', 'fail', 'update', 'stable'], { env });
  assert.equal(r.code, 75, r.stderr);
  assert.match(
    r.stderr,
    new RegExp(
      `running without a lock: stable\\S*: \\S*${PROC_MACRO_SRV.replace(/[/.]/g, '\\$&')} \\(pid ${server.pid}`,
    ),
  );
  assert.equal(fs.existsSync(log), false, 'rustup must not have run');
  server.proc.child.stdin.end();
  await server.proc.result();
  const ok = await cli(['rustup', '--unlocked', 'fail', 'update', 'stable'], { env });
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(fs.readFileSync(log, 'utf8'), 'update stable\n');
});

test('the rustup shim waits for them too, choosing by TOOLCHAIN_LOCK_UNLOCKED; read-only calls never ask', async (t) => {
  const box = sandbox(t);
  const home = box.env.RUSTUP_HOME;
  const tc = path.join(home, 'toolchains', `stable-${HOST}`);
  const srv = copyProcMacroServer(tc);
  // The same stand-in as above, as the shim's real rustup (`shims exec` as the shim scripts call it).
  const { log, rustup: real } = loggingRustup(box);
  const shims = path.join(box.dir, 'shims');
  fs.mkdirSync(shims);
  const shim = (args, env) =>
    cli(['shims', 'exec', '--dir', shims, '--real', real, '--', 'rustup', ...args], {
      env: { ...box.env, ...env },
    });
  const server = await startServer([srv], { env: box.env, exe: srv });

  const failed = await shim(['update', 'stable'], { TOOLCHAIN_LOCK_UNLOCKED: 'fail' });
  assert.equal(failed.code, 75, failed.stderr);
  assert.match(
    failed.stderr,
    new RegExp(
      `running without a lock: stable\\S*: \\S*${PROC_MACRO_SRV.replace(/[/.]/g, '\\$&')} \\(pid ${server.pid}`,
    ),
  );
  assert.equal(fs.existsSync(log), false, 'rustup must not have run');
  // A bad choice is a usage error for a changing call, and no concern of a read-only one.
  const bad = await shim(['update', 'stable'], { TOOLCHAIN_LOCK_UNLOCKED: 'maybe' });
  assert.equal(bad.code, 64, bad.stderr);
  assert.match(bad.stderr, /TOOLCHAIN_LOCK_UNLOCKED wants wait, proceed or fail, not "maybe"/);
  const show = await shim(['show'], { TOOLCHAIN_LOCK_UNLOCKED: 'maybe' });
  assert.equal(show.code, 0, show.stderr);
  assert.equal(fs.readFileSync(log, 'utf8'), 'show\n');

  // Waiting: the update runs once the server has exited.
  const waiting = start(
    ['shims', 'exec', '--dir', shims, '--real', real, '--', 'rustup', 'update', 'stable'],
    { env: { ...box.env, TOOLCHAIN_LOCK_UNLOCKED_TIMEOUT: '60' } },
  );
  await waiting.waitFor('stderr', /waiting up to 60 s for them to exit/);
  server.proc.child.stdin.end();
  const r = await waiting.result(30_000);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(fs.readFileSync(log, 'utf8'), 'show\nupdate stable\n');
});

test(
  'a change watch whose kernel watcher thread fails goes on with fs.watch',
  { skip: process.platform !== 'linux' && 'inotify is Linux only' },
  async (t) => {
    const box = sandbox(t);
    const tc = box.toolchain();
    // The watcher thread of this process fails its first read(2) with EIO (a fault injected for tests
    // only): the first change is lost with it; the ones after must still be heard.
    const watcher = start(['watch', '--json', tc], {
      env: { ...box.env, TOOLCHAIN_LOCK_TEST_WATCH_FAULT: 'read' },
    });
    t.after(() => watcher.kill('SIGKILL'));
    await watcher.waitFor('stderr', /watching .* for lock events/);
    // Keep changing the toolchain until the watch reports it: the change that kills the thread cannot be.
    let n = 0;
    const poke = setInterval(() => fs.writeFileSync(path.join(tc, 'A'), `version ${++n}\n`), 200);
    try {
      await watcher.waitFor('stdout', /"event":"unlocked-change","phase":"started"/, 20_000);
    } finally {
      clearInterval(poke);
    }
    await watcher.waitFor('stdout', /"event":"unlocked-change","phase":"done"/, 20_000);
  },
);
