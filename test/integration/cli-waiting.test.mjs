// `update` against holders it must wait for: plain flock(1) readers, timeouts, --no-wait, and
// signals while waiting and while CMD runs. Everything must be released on every way out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  BLOCKED_MS,
  cli,
  sandbox,
  settlesWithin,
  start,
  startProcess,
  stateOf,
  statusOf,
} from '../fixtures/cli-harness.mjs';

const POLL = ['--poll-interval', '100'];
const node = (code) => [process.execPath, '-e', code];
/** A CMD that says it started and then waits for a line on stdin. */
const WAITER = node("console.log('started'); process.stdin.once('data', () => process.exit(0));");
/** A CMD that prints its pid and runs until SIGUSR1 (it outlives its wrapper, whose pipes close). */
const DETACHABLE = node(
  "process.on('SIGUSR1', () => process.exit(0)); console.log(`started ${process.pid}`); setInterval(() => {}, 1000);",
);

/** A plain `flock -s LOCKFILE` reader, as a script would take part without toolchain-lock. */
async function flockReader(env, tc) {
  const { lockFile } = (await statusOf(env, tc)).toolchains[0];
  // As a script would: the lock directory must exist for flock(1) to create the lock file in it.
  fs.mkdirSync(env.TOOLCHAIN_LOCK_DIR, { recursive: true, mode: 0o700 });
  // Its own process group, so the test can end flock and the sleep that inherits its lock at once.
  const holder = startProcess(['flock', '-s', lockFile, 'sh', '-c', 'echo held; exec sleep 60'], {
    env,
    detached: true,
  });
  await holder.waitFor('stdout', /held/);
  const leave = () => {
    try {
      process.kill(-holder.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  };
  return { ...holder, leave };
}

test('update waits for a plain flock -s holder, names it, and goes once it leaves', async (t) => {
  const { env, toolchain } = sandbox(t);
  const tc = toolchain();
  const holder = await flockReader(env, tc);
  t.after(() => holder.leave());
  const s = (await statusOf(env, tc)).toolchains[0];
  assert.equal(s.state, 'read');
  assert.equal(s.holders.length, 1);
  assert.deepEqual(
    [s.holders[0].foreign, s.holders[0].pid, s.holders[0].command[0]],
    [true, holder.pid, 'flock'],
  );

  const update = start(['update', tc, ...POLL, '--', ...node("console.log('updating')")], { env });
  // A long lock file path may be shortened to its name in the one-line message.
  const lockFileShown = `(${s.lockFile}|…/${path.basename(s.lockFile)})`;
  await update.waitFor(
    'stderr',
    new RegExp(
      `blocked by reader flock -s ${lockFileShown} .* \\(pid ${holder.pid}, .*plain flock, no record`,
    ),
  );
  assert.match(
    update.out.stderr.split('\n')[0],
    /blocked by reader flock -s/,
    'the first line already names the local flock holder',
  );
  assert.doesNotMatch(update.out.stderr, /cannot name/);
  assert.equal(await stateOf(env, tc), 'update-pending');
  holder.leave();
  const u = await update.result();
  assert.equal(u.code, 0, u.stderr);
  assert.match(u.stdout, /updating/);
  assert.equal(await stateOf(env, tc), 'free');
});

test('--timeout and --no-wait give up with 75 and name the holder; nothing is left behind', async (t) => {
  const { env, toolchain } = sandbox(t);
  const tc = toolchain();
  const holder = await flockReader(env, tc);
  t.after(() => holder.leave());

  const started = Date.now();
  const timedOut = await cli(['update', tc, '--timeout', '0.5', ...POLL, '--', 'true'], { env });
  assert.equal(timedOut.code, 75, timedOut.stderr);
  assert.ok(Date.now() - started < 10_000);
  assert.match(
    timedOut.stderr,
    new RegExp(
      `toolchain-lock: Timed out after 0\\.5 s waiting for the write lock of tc; still held by flock .*\\(pid ${holder.pid}.*--timeout`,
    ),
  );

  const refused = await cli(['update', tc, '--no-wait', '--', 'true'], { env });
  assert.equal(refused.code, 75, refused.stderr);
  assert.match(
    refused.stderr,
    new RegExp(
      `toolchain-lock: .*waiting was not allowed; held by flock .*\\(pid ${holder.pid}.*--no-wait`,
    ),
  );

  const s = (await statusOf(env, tc)).toolchains[0];
  assert.deepEqual(
    [s.state, s.writer, s.waiting],
    ['read', null, []],
    'no pending update is left behind',
  );
});

test('Ctrl-C while waiting gives up (130) and leaves no pending update', async (t) => {
  const { env, toolchain } = sandbox(t);
  const tc = toolchain();
  const reader = start(['run', tc, '--', ...WAITER], { env });
  await reader.waitFor('stdout', /started/);
  const update = start(['update', tc, ...POLL, '--', ...node("console.log('must not run')")], {
    env,
  });
  await update.waitFor('stderr', /waiting for the write lock of tc/);
  update.kill('SIGINT');
  const u = await update.result();
  assert.equal(u.code, 130, u.stderr);
  assert.match(
    u.stderr,
    /Stopped waiting for the write lock of tc: cancelled\. Nothing was run and no lock is held\./,
  );
  assert.doesNotMatch(u.stdout, /must not run/);
  assert.equal(
    await stateOf(env, tc),
    'read',
    'the reader still holds it, and no update is pending',
  );
  reader.send();
  assert.equal((await reader.result()).code, 0);
  const next = await cli(['update', tc, '--no-wait', '--', 'true'], { env });
  assert.equal(next.code, 0, next.stderr);
});

test('Ctrl-C during CMD goes to CMD; the wrapper exits with its status and releases', async (t) => {
  const { env, toolchain } = sandbox(t);
  const tc = toolchain();
  // Like a terminal's Ctrl-C: SIGINT to the whole process group (wrapper and CMD).
  const update = start(
    [
      'update',
      tc,
      '--',
      ...node(
        "process.on('SIGINT', () => { console.log('CMD got SIGINT'); process.exit(42); }); console.log('started'); setInterval(() => {}, 1000);",
      ),
    ],
    { env, detached: true },
  );
  await update.waitFor('stdout', /started/);
  assert.equal(await stateOf(env, tc), 'write');
  process.kill(-update.pid, 'SIGINT');
  const u = await update.result();
  assert.equal(u.code, 42, u.stderr);
  assert.match(u.stdout, /CMD got SIGINT/);
  assert.equal(await stateOf(env, tc), 'free');
  assert.equal((await cli(['update', tc, '--no-wait', '--', 'true'], { env })).code, 0);
});

test('SIGTERM to the wrapper during CMD is forwarded; CMD killed by it gives 143', async (t) => {
  const { env, toolchain } = sandbox(t);
  const tc = toolchain();
  const run = start(
    ['run', tc, '--', ...node("console.log('started'); setInterval(() => {}, 1000);")],
    { env },
  );
  await run.waitFor('stdout', /started/);
  run.kill('SIGTERM');
  assert.equal((await run.result()).code, 143);
  assert.equal(await stateOf(env, tc), 'free');
});

test('SIGKILL of the run wrapper: CMD keeps the lock until it exits', async (t) => {
  const { env, toolchain } = sandbox(t);
  const tc = toolchain();
  const run = start(['run', tc, '--', ...DETACHABLE], { env });
  const cmdPid = Number((await run.waitFor('stdout', /started (\d+)/))[1]);
  // Gone already (it exits on SIGUSR1 below), unless nobody has reaped it yet: either is fine.
  t.after(() => {
    try {
      process.kill(cmdPid, 'SIGKILL');
    } catch {}
  });
  run.kill('SIGKILL');
  assert.equal((await run.exited).signal, 'SIGKILL');
  const s = (await statusOf(env, tc)).toolchains[0];
  assert.equal(s.state, 'read');
  assert.equal(s.holders.length, 1);
  assert.equal(s.holders[0].liveness, 'alive', "the dead wrapper's record lives on through CMD");
  const refused = await cli(['update', tc, '--no-wait', '--', 'true'], { env });
  assert.equal(refused.code, 75, refused.stderr);
  process.kill(cmdPid, 'SIGUSR1');
  await run.closed;
  assert.equal(await stateOf(env, tc), 'free');
  const next = await cli(['update', tc, '--no-wait', '--', 'true'], { env });
  assert.equal(next.code, 0, next.stderr);
});

test('SIGKILL of the update wrapper: CMD keeps the write lock until it exits', async (t) => {
  const { env, toolchain } = sandbox(t);
  const tc = toolchain();
  const update = start(['update', tc, '--', ...DETACHABLE], { env });
  const cmdPid = Number((await update.waitFor('stdout', /started (\d+)/))[1]);
  // Gone already (it exits on SIGUSR1 below), unless nobody has reaped it yet: either is fine.
  t.after(() => {
    try {
      process.kill(cmdPid, 'SIGKILL');
    } catch {}
  });
  update.kill('SIGKILL');
  await update.exited;
  assert.equal(await stateOf(env, tc), 'write');
  const reader = start(['run', tc, '--poll-interval', '100', '--', 'true'], { env });
  assert.equal(
    await settlesWithin(reader.exited, BLOCKED_MS),
    false,
    'a reader must wait while CMD updates',
  );
  process.kill(cmdPid, 'SIGUSR1');
  await update.closed;
  const r = await reader.result();
  assert.equal(r.code, 0, r.stderr);
  assert.equal(await stateOf(env, tc), 'free');
});

test('a plain flock -x on the gate file is a pending update, and readers queue behind it', async (t) => {
  const { env, toolchain } = sandbox(t);
  const tc = toolchain();
  const { gateFile } = (await statusOf(env, tc)).toolchains[0];
  fs.mkdirSync(env.TOOLCHAIN_LOCK_DIR, { recursive: true, mode: 0o700 });
  const announcer = startProcess(
    ['flock', '-x', gateFile, 'sh', '-c', 'echo announced; exec sleep 60'],
    { env, detached: true },
  );
  await announcer.waitFor('stdout', /announced/);
  const s = (await statusOf(env, tc)).toolchains[0];
  assert.equal(s.state, 'update-pending');
  assert.deepEqual(
    [s.writer.mode, s.writer.state, s.writer.foreign, s.writer.pid],
    ['write', 'waiting', true, announcer.pid],
  );
  assert.deepEqual(s.holders, []);
  const reader = start(['run', tc, ...POLL, '--', 'echo', 'reader ran'], { env });
  await reader.waitFor(
    'stderr',
    new RegExp(
      `waiting for the read lock of tc; blocked by update pending flock -x .*\\(pid ${announcer.pid}`,
    ),
  );
  process.kill(-announcer.pid, 'SIGKILL');
  const r = await reader.result();
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /reader ran/);
});

test('a plain flock -s whose flock(1) was SIGKILLed: status names the command that still holds it, not a live dead pid', async (t) => {
  const { env, toolchain } = sandbox(t);
  const tc = toolchain();
  const { lockFile } = (await statusOf(env, tc)).toolchains[0];
  fs.mkdirSync(env.TOOLCHAIN_LOCK_DIR, { recursive: true, mode: 0o700 });
  const holder = startProcess(
    ['flock', '-s', lockFile, 'sh', '-c', 'echo "held $$"; exec sleep 60'],
    { env, detached: true },
  );
  t.after(() => {
    try {
      process.kill(-holder.pid, 'SIGKILL');
    } catch {}
  });
  const child = Number((await holder.waitFor('stdout', /held (\d+)/))[1]);
  process.kill(holder.pid, 'SIGKILL');
  await holder.exited;
  const s = (await statusOf(env, tc)).toolchains[0];
  assert.equal(s.state, 'read', 'the child keeps the lock');
  assert.equal(s.holders.length, 1, JSON.stringify(s.holders));
  const [h] = s.holders;
  // /proc/locks still lists the killed flock(1); the lock lives in its child's descriptor.
  assert.deepEqual(
    [h.foreign, h.pid, h.children, h.command[0], h.liveness],
    [true, holder.pid, [child], 'sleep', 'alive'],
  );
});
