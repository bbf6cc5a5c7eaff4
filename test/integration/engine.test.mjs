// The lock engine with real processes and real flock: sharing, exclusion, writer preference, crashes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { spawnHolder, tempDir } from '../helpers.mjs';

const engine = createRequire(import.meta.url)('../../dist/lock.js');

function setup(t) {
  const root = tempDir(t);
  const dir = path.join(root, 'locks');
  const tc = path.join(root, 'toolchain');
  fs.mkdirSync(tc);
  return { root, dir, tc };
}

const POLL = '150';

test('readers share the lock', async (t) => {
  const { dir, tc } = setup(t);
  const a = spawnHolder(t, ['--dir', dir, '--mode', 'read', '--toolchain', tc]);
  const b = spawnHolder(t, ['--dir', dir, '--mode', 'read', '--toolchain', tc]);
  await a.next('acquired');
  await b.next('acquired');
  const [s] = engine.status({ lockDir: dir });
  assert.equal(s.state, 'read');
  assert.deepEqual(s.holders.map((h) => h.pid).sort(), [a.child.pid, b.child.pid].sort());
  assert.ok(
    s.holders.every((h) => h.liveness === 'alive' && !h.foreign && h.client === 'test-fixture'),
  );
});

test('a writer waits for the reader, names it, and gets the lock when it leaves', async (t) => {
  const { dir, tc } = setup(t);
  const r = spawnHolder(t, [
    '--dir',
    dir,
    '--mode',
    'read',
    '--toolchain',
    tc,
    '--purpose',
    'language server',
  ]);
  await r.next('acquired');
  const w = spawnHolder(t, ['--dir', dir, '--mode', 'write', '--toolchain', tc]);
  const waiting = await w.next('waiting');
  assert.deepEqual(
    waiting.blockers.map((b) => b.pid),
    [r.child.pid],
  );
  await r.next('pending');
  assert.equal(engine.status({ lockDir: dir })[0].state, 'update-pending');
  assert.ok(
    await w.stillNo('acquired'),
    'the writer must stay blocked while a reader holds the lock',
  );
  r.send('release');
  await w.next('acquired');
  const [s] = engine.status({ lockDir: dir });
  assert.equal(s.state, 'write');
  assert.equal(s.writer.pid, w.child.pid);
});

test('a pending writer blocks new readers and is served after the last reader leaves', async (t) => {
  const { dir, tc } = setup(t);
  const r1 = spawnHolder(t, ['--dir', dir, '--mode', 'read', '--toolchain', tc]);
  await r1.next('acquired');
  const w = spawnHolder(t, ['--dir', dir, '--mode', 'write', '--toolchain', tc]);
  await r1.next('pending');
  const r2 = spawnHolder(t, ['--dir', dir, '--mode', 'read', '--toolchain', tc]);
  const r2wait = await r2.next('waiting');
  assert.ok(
    r2wait.blockers.some((b) => b.pid === w.child.pid && b.mode === 'write'),
    'the new reader names the pending writer',
  );
  assert.ok(await r2.stillNo('acquired'), 'a new reader must not pass a pending writer');
  r1.send('release');
  const wAcq = await w.next('acquired');
  assert.ok(await r2.stillNo('acquired', 200));
  w.send('release');
  const r2Acq = await r2.next('acquired');
  assert.ok(BigInt(r2Acq.t) > BigInt(wAcq.t));
});

test('readers that queued before a writer announced go before it', async (t) => {
  const { dir, tc } = setup(t);
  const w1 = spawnHolder(t, ['--dir', dir, '--mode', 'write', '--toolchain', tc, '--poll', POLL]);
  await w1.next('acquired');
  const r = spawnHolder(t, ['--dir', dir, '--mode', 'read', '--toolchain', tc, '--poll', POLL]);
  await r.next('waiting');
  const w2 = spawnHolder(t, ['--dir', dir, '--mode', 'write', '--toolchain', tc, '--poll', POLL]);
  await w2.next('waiting');
  w1.send('release');
  const rAcq = await r.next('acquired');
  r.send('release');
  const w2Acq = await w2.next('acquired');
  assert.ok(
    BigInt(rAcq.t) < BigInt(w2Acq.t),
    'the earlier reader was served before the later writer',
  );
});

test('holders learn of a pending writer, and release on it', async (t) => {
  const { dir, tc } = setup(t);
  const readers = [0, 1, 2].map(() =>
    spawnHolder(t, ['--dir', dir, '--mode', 'read', '--toolchain', tc, '--release-on-pending']),
  );
  for (const r of readers) await r.next('acquired');
  const w = spawnHolder(t, ['--dir', dir, '--mode', 'write', '--toolchain', tc]);
  for (const r of readers) assert.equal((await r.next('pending')).writer.pid, w.child.pid);
  await w.next('acquired');
});

for (const [victim, other] of [
  ['read', 'write'],
  ['write', 'read'],
  ['write', 'write'],
]) {
  test(`SIGKILL of a ${victim} holder frees the lock for a ${other === 'read' ? 'reader' : 'writer'}`, async (t) => {
    const { dir, tc } = setup(t);
    const v = spawnHolder(t, ['--dir', dir, '--mode', victim, '--toolchain', tc]);
    await v.next('acquired');
    const o = spawnHolder(t, ['--dir', dir, '--mode', other, '--toolchain', tc, '--poll', POLL]);
    await o.next('waiting');
    v.child.kill('SIGKILL');
    await v.exited;
    await o.next('acquired');
    const [s] = engine.status({ lockDir: dir });
    assert.ok(!s.holders.some((h) => h.pid === v.child.pid), 'the dead holder is not reported');
  });
}

test('SIGKILL of a pending writer lets blocked readers in', async (t) => {
  const { dir, tc } = setup(t);
  const r1 = spawnHolder(t, ['--dir', dir, '--mode', 'read', '--toolchain', tc]);
  await r1.next('acquired');
  const w = spawnHolder(t, ['--dir', dir, '--mode', 'write', '--toolchain', tc]);
  await r1.next('pending');
  const r2 = spawnHolder(t, ['--dir', dir, '--mode', 'read', '--toolchain', tc, '--poll', POLL]);
  await r2.next('waiting');
  w.child.kill('SIGKILL');
  await w.exited;
  await r2.next('acquired');
  const [s] = engine.status({ lockDir: dir });
  assert.equal(s.state, 'read');
  assert.equal(s.writer, null, 'the dead writer is no longer reported as pending');
});

test('a plain flock(1) holder blocks the writer and is reported as foreign', async (t) => {
  const { dir, tc } = setup(t);
  const r = spawnHolder(t, ['--dir', dir, '--mode', 'read', '--toolchain', tc]);
  const { lockFiles } = await r.next('acquired');
  r.send('release');
  await r.next('released');
  // flock(1) passes the locked descriptor to its command, so the whole group holds the lock.
  const flock = spawn('flock', ['-s', lockFiles[0], 'sleep', '30'], {
    stdio: 'ignore',
    detached: true,
  });
  const killGroup = (sig) => {
    try {
      process.kill(-flock.pid, sig);
    } catch {}
  };
  t.after(() => killGroup('SIGKILL'));
  let s;
  for (let i = 0; i < 100 && (s = engine.status({ lockDir: dir })[0]).state !== 'read'; i++)
    await new Promise((r) => setTimeout(r, 20));
  assert.equal(s.state, 'read');
  const foreign = s.holders.find((h) => h.foreign);
  assert.ok(foreign, `a foreign holder is listed: ${JSON.stringify(s.holders)}`);
  assert.equal(foreign.pid, flock.pid);
  assert.match(foreign.command.join(' '), /flock -s .* sleep 30/);
  const w = spawnHolder(t, ['--dir', dir, '--mode', 'write', '--toolchain', tc, '--poll', POLL]);
  // Holders without a record are named from the kernel's table once the wait lasts a moment.
  const waiting = await w.next('waiting', { pred: (ev) => ev.blockers.some((b) => b.foreign) });
  assert.ok(waiting.blockers.some((b) => b.foreign && b.pid === flock.pid));
  assert.ok(await w.stillNo('acquired'));
  killGroup('SIGTERM');
  await w.next('acquired');
});

test('watch reports a recorded reader once, never as foreign, and a real flock(1) holder as foreign', async (t) => {
  const { dir, tc } = setup(t);
  const events = [];
  const w = engine.watch({ lockDir: dir, pollIntervalMs: 100, onEvent: (e) => events.push(e) });
  t.after(() => w.dispose());
  const until = async (pred) => {
    for (let i = 0; i < 200 && !events.some(pred); i++) await new Promise((r) => setTimeout(r, 25));
    return events.find(pred);
  };
  for (let round = 0; round < 5; round++) {
    const r = spawnHolder(t, ['--dir', dir, '--mode', 'read', '--toolchain', tc]);
    const { lockFiles } = await r.next('acquired');
    assert.ok(await until((e) => e.event === 'acquired' && e.holder.pid === r.child.pid));
    r.send('exit');
    await r.exited;
    assert.ok(await until((e) => e.event === 'released' && e.holder.pid === r.child.pid));
    if (round === 4) {
      assert.deepEqual(
        events.filter((e) => e.holder.foreign),
        [],
        'no recorded reader passed for a foreign one',
      );
      const flock = spawn('flock', ['-s', '-o', lockFiles[0], 'sleep', '30'], { stdio: 'ignore' });
      t.after(() => flock.kill('SIGKILL'));
      const foreign = await until((e) => e.event === 'acquired' && e.holder.foreign);
      assert.ok(foreign, JSON.stringify(events));
      assert.equal(foreign.holder.pid, flock.pid);
    }
  }
});

test('timeouts and no-wait fail with their codes and leave nothing held', async (t) => {
  const { dir, tc } = setup(t);
  const r = spawnHolder(t, ['--dir', dir, '--mode', 'read', '--toolchain', tc]);
  await r.next('acquired');
  const noWait = spawnHolder(t, [
    '--dir',
    dir,
    '--mode',
    'write',
    '--toolchain',
    tc,
    '--timeout',
    '0',
  ]);
  assert.equal((await noWait.next('error')).code, 'E_WOULD_BLOCK');
  const timeout = spawnHolder(t, [
    '--dir',
    dir,
    '--mode',
    'write',
    '--toolchain',
    tc,
    '--timeout',
    '300',
  ]);
  const err = await timeout.next('error');
  assert.equal(err.code, 'E_TIMEOUT');
  assert.match(err.message, new RegExp(`pid ${r.child.pid}`));
  const [s] = engine.status({ lockDir: dir });
  assert.equal(s.state, 'read', 'the gave-up writers left no pending intent');
  assert.equal(s.waiting.length, 0);
  const r2 = spawnHolder(t, ['--dir', dir, '--mode', 'read', '--toolchain', tc]);
  await r2.next('acquired');
});

test('an abort signal stops the wait and removes the intent', async (t) => {
  const { dir, tc } = setup(t);
  const r = spawnHolder(t, ['--dir', dir, '--mode', 'read', '--toolchain', tc]);
  await r.next('acquired');
  const ac = new AbortController();
  const pending = engine.acquireWrite([{ name: 'tc', path: tc }], {
    lockDir: dir,
    signal: ac.signal,
  });
  await r.next('pending');
  ac.abort();
  await assert.rejects(pending, (e) => e.code === 'E_ABORTED');
  assert.equal(engine.status({ lockDir: dir })[0].state, 'read');
});

test('the nested-write guard refuses at once under an inherited read lock', async (t) => {
  const { dir, tc } = setup(t);
  const key = engine.toolchainKey(tc);
  await assert.rejects(
    engine.acquireWrite([{ name: 'tc', path: tc }], {
      lockDir: dir,
      env: { TOOLCHAIN_LOCK_HELD: `other-0123456789ab,${key}` },
    }),
    (e) => e.code === 'E_NESTED_WRITE' && /wait for itself/.test(e.message),
  );
  const read = await engine.acquireRead({ name: 'tc', path: tc }, { lockDir: dir });
  assert.equal(read.childEnv().TOOLCHAIN_LOCK_HELD, key);
  await assert.rejects(
    engine.acquireWrite([{ name: 'tc', path: tc }], { lockDir: dir }),
    (e) => e.code === 'E_NESTED_WRITE',
  );
  await read.release();
});

test('inside an update, a read of the same toolchain is covered and a nested write is refused', async (t) => {
  const { dir, tc } = setup(t);
  const w = await engine.acquireWrite([{ name: 'tc', path: tc }], { lockDir: dir });
  const env = w.childEnv();
  assert.equal(env.TOOLCHAIN_LOCK_WRITING, w.keys[0]);
  const inner = await engine.acquireRead(
    { name: 'tc', path: tc },
    { lockDir: dir, env, timeoutMs: 0 },
  );
  assert.deepEqual(inner.fds, [], 'the ancestor holds the lock; the inner reader takes none');
  await inner.release();
  await assert.rejects(
    engine.acquireWrite([{ name: 'tc', path: tc }], { lockDir: dir, env }),
    (e) => e.code === 'E_NESTED_WRITE' && /write lock of it/.test(e.message),
  );
  // Control: without the marker the same read cannot be had while the update runs.
  await assert.rejects(
    engine.acquireRead({ name: 'tc', path: tc }, { lockDir: dir, timeoutMs: 0 }),
    (e) => e.code === 'E_WOULD_BLOCK',
  );
  await w.release();
});

test('a command run under `toolchain-lock update` can use `toolchain-lock run` on the same toolchain', async (t) => {
  const { dir, tc } = setup(t);
  const cli = new URL('../../dist/cli.js', import.meta.url).pathname;
  const r = spawnSync(
    process.execPath,
    [
      cli,
      'update',
      tc,
      '--lock-dir',
      dir,
      '--timeout',
      '20',
      '--',
      process.execPath,
      cli,
      'run',
      tc,
      '--lock-dir',
      dir,
      '--',
      'echo',
      'inside',
    ],
    { encoding: 'utf8', timeout: 30000 },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /inside/);
});

test('several toolchains are locked together and each reports the writer', async (t) => {
  const { root, dir, tc } = setup(t);
  const tc2 = path.join(root, 'toolchain2');
  fs.mkdirSync(tc2);
  const w = spawnHolder(t, [
    '--dir',
    dir,
    '--mode',
    'write',
    '--toolchain',
    tc2,
    '--toolchain',
    tc,
  ]);
  const acq = await w.next('acquired');
  assert.deepEqual(acq.keys, [...acq.keys].sort(), 'keys are locked in canonical order');
  const states = engine.status({ lockDir: dir }).map((s) => s.state);
  assert.deepEqual(states, ['write', 'write']);
});

test('polling mode (network file systems) still hands off, and warns once', async (t) => {
  const { dir, tc } = setup(t);
  const env = { TOOLCHAIN_LOCK_FS: 'network' };
  const r = spawnHolder(
    t,
    ['--dir', dir, '--mode', 'read', '--toolchain', tc, '--poll', POLL, '--release-on-pending'],
    { env },
  );
  await r.next('acquired');
  const warning = await r.next('warning');
  assert.match(warning.message, /network file system.*TOOLCHAIN_LOCK_NO_NETWORK_FS_WARNING/s);
  const w = spawnHolder(t, ['--dir', dir, '--mode', 'write', '--toolchain', tc, '--poll', POLL], {
    env,
  });
  await r.next('pending');
  await w.next('acquired');
  assert.equal(r.events.filter((e) => e.event === 'warning').length, 1);
});

test('a reader in another PID namespace is reported unknown, never dead', async (t) => {
  const probe = spawnSync('unshare', ['--pid', '--fork', '--mount-proc', 'true']);
  if (probe.status !== 0) {
    t.skip(`unshare --pid is not permitted here: ${String(probe.stderr).trim()}`);
    return;
  }
  const { dir, tc } = setup(t);
  for (const prefix of [
    ['unshare', '--pid', '--fork', '--mount-proc'],
    ['unshare', '--pid', '--fork'],
  ]) {
    const r = spawnHolder(t, ['--dir', dir, '--mode', 'read', '--toolchain', tc], {
      spawnPrefix: prefix,
    });
    await r.next('acquired');
    const [s] = engine.status({ lockDir: dir });
    const h = s.holders.find((x) => !x.foreign);
    assert.ok(h, `the namespaced holder is listed (${prefix.join(' ')}): ${JSON.stringify(s)}`);
    assert.equal(h.liveness, 'unknown', prefix.join(' '));
    assert.equal(
      fs.readdirSync(dir).filter((f) => f.includes('~')).length,
      1,
      'its record is kept',
    );
    r.send('exit');
    await r.exited;
  }
});

test('a client that unlocks without closing, then removes its record, still lets a waiting writer in', async (t) => {
  const { dir, tc } = setup(t);
  const r = spawnHolder(t, ['--dir', dir, '--mode', 'read', '--toolchain', tc]);
  const { lockFiles } = await r.next('acquired');
  r.send('release');
  await r.next('released');
  const key = path.basename(lockFiles[0], '.lock');
  // A client written against PROTOCOL.md §3 but for its "close both": LOCK_UN, descriptor kept
  // open, then its record removed. No close event ever comes for the lock file.
  const script = `
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR)
fcntl.flock(fd, fcntl.LOCK_SH)
record = os.path.join(sys.argv[2], sys.argv[3] + '~abcdefabcdef.json')
open(record, 'w').write('{}')
print('holding', flush=True)
sys.stdin.readline()
fcntl.flock(fd, fcntl.LOCK_UN)
os.unlink(record)
print('unlocked', flush=True)
time.sleep(60)
`;
  const py = spawn('python3', ['-c', script, lockFiles[0], dir, key], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  t.after(() => py.kill('SIGKILL'));
  let out = '';
  const said = (word) =>
    new Promise((resolve) => {
      const check = () => out.includes(word) && resolve();
      py.stdout.on('data', (d) => {
        out += d;
        check();
      });
      check();
    });
  await said('holding');
  const w = spawnHolder(t, ['--dir', dir, '--mode', 'write', '--toolchain', tc]);
  await w.next('waiting');
  assert.ok(await w.stillNo('acquired'), 'the writer waits while the lock is held');
  py.stdin.write('\n');
  await said('unlocked');
  await w.next('acquired');
});
