// Records: stale ones are removed only when death is proved; broken ones are ignored with a reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { tempDir } from '../helpers.mjs';

const engine = createRequire(import.meta.url)('../../dist/lock.js');

async function lockedDir(t) {
  const root = tempDir(t);
  const dir = path.join(root, 'locks');
  const tc = path.join(root, 'toolchain');
  fs.mkdirSync(tc);
  // Create the lock files and learn the key.
  const r = await engine.acquireRead({ name: 'tc', path: tc }, { lockDir: dir });
  const key = r.keys[0];
  await r.release();
  return { dir, tc, key };
}

function ownRecord(key, tc, overrides) {
  const bootId = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  const ns = /\[(\d+)\]/.exec(fs.readlinkSync('/proc/self/ns/pid'))[1];
  const stat = fs.readFileSync(`/proc/${process.pid}/stat`, 'utf8');
  const startTime = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  return {
    protocol: 1,
    id: 'aaaaaaaaaaaa',
    toolchain: { name: 'tc', path: tc },
    mode: 'read',
    state: 'held',
    pid: process.pid,
    startTime,
    host: os.hostname(),
    bootId,
    pidNamespace: ns,
    user: 'test',
    uid: 0,
    client: 'test',
    command: ['x'],
    purpose: null,
    since: new Date().toISOString(),
    children: [],
    ...overrides,
  };
}

test('a record of a dead pid is stale: not reported, and removed by clean, not by looking', async (t) => {
  const { dir, tc, key } = await lockedDir(t);
  const gone = spawnSync(process.execPath, ['-e', 'console.log(process.pid)']);
  const deadPid = Number(String(gone.stdout).trim());
  const file = path.join(dir, `${key}~aaaaaaaaaaaa.json`);
  fs.writeFileSync(file, JSON.stringify(ownRecord(key, tc, { pid: deadPid, startTime: '1' })));
  const [s] = engine.status({ lockDir: dir });
  assert.equal(s.holders.length, 0);
  assert.equal(fs.existsSync(file), true, 'status only looks');
  assert.deepEqual(engine.clean({ lockDir: dir }), [
    { file: path.basename(file), reason: 'dead record' },
  ]);
  assert.equal(fs.existsSync(file), false, 'the dead record was removed');
});

test('a record whose pid is alive with another start time (pid reuse) is stale', async (t) => {
  const { dir, tc, key } = await lockedDir(t);
  const file = path.join(dir, `${key}~aaaaaaaaaaaa.json`);
  fs.writeFileSync(
    file,
    JSON.stringify(ownRecord(key, tc, { startTime: '1', state: 'waiting', mode: 'write' })),
  );
  const [s] = engine.status({ lockDir: dir });
  assert.equal(s.writer, null, 'the reused pid is not taken for the old writer');
  engine.clean({ lockDir: dir });
  assert.equal(fs.existsSync(file), false);
});

test('a live pending writer record with the right start time is kept and reported', async (t) => {
  const { dir, tc, key } = await lockedDir(t);
  const file = path.join(dir, `${key}~aaaaaaaaaaaa.json`);
  fs.writeFileSync(
    file,
    JSON.stringify(
      ownRecord(key, tc, {
        state: 'waiting',
        mode: 'write',
        command: ['rustup', 'update', 'stable'],
      }),
    ),
  );
  const [s] = engine.status({ lockDir: dir });
  assert.equal(s.state, 'update-pending');
  assert.deepEqual(s.writer.command, ['rustup', 'update', 'stable']);
  assert.equal(s.writer.liveness, 'alive');
  assert.ok(fs.existsSync(file));
});

test('records from another host or boot are unknown, never dead', async (t) => {
  const { dir, tc, key } = await lockedDir(t);
  fs.writeFileSync(
    path.join(dir, `${key}~aaaaaaaaaaaa.json`),
    JSON.stringify(
      ownRecord(key, tc, { host: 'elsewhere', pid: 999999, state: 'waiting', mode: 'write' }),
    ),
  );
  fs.writeFileSync(
    path.join(dir, `${key}~bbbbbbbbbbbb.json`),
    JSON.stringify(
      ownRecord(key, tc, {
        id: 'bbbbbbbbbbbb',
        bootId: 'another-boot',
        pid: 999998,
        state: 'waiting',
        mode: 'write',
      }),
    ),
  );
  const [s] = engine.status({ lockDir: dir });
  assert.deepEqual(
    s.waiting.map((h) => h.liveness),
    ['unknown', 'unknown'],
  );
});

test('records this host wrote before it last booted are dead: removed by the next party, and no update stays pending', async (t) => {
  const { dir, tc, key } = await lockedDir(t);
  const beforeBoot = new Date(Date.now() - os.uptime() * 1000 - 3600_000).toISOString();
  const waiting = path.join(dir, `${key}~aaaaaaaaaaaa.json`);
  const held = path.join(dir, `${key}~bbbbbbbbbbbb.json`);
  fs.writeFileSync(
    waiting,
    JSON.stringify(
      ownRecord(key, tc, {
        bootId: 'an-earlier-boot',
        pid: 999999,
        state: 'waiting',
        mode: 'write',
        since: beforeBoot,
      }),
    ),
  );
  fs.writeFileSync(
    held,
    JSON.stringify(
      ownRecord(key, tc, {
        id: 'bbbbbbbbbbbb',
        bootId: 'an-earlier-boot',
        pid: 999998,
        since: beforeBoot,
      }),
    ),
  );
  const [s] = engine.status({ lockDir: dir });
  assert.equal(s.state, 'free', 'no update pending from a boot that is over');
  assert.equal(s.writer, null);
  assert.deepEqual(
    [fs.existsSync(waiting), fs.existsSync(held)],
    [true, true],
    'status only looks',
  );
  // A reader is not told of that writer either, and cleans up after it.
  const reader = await engine.acquireRead({ name: 'tc', path: tc }, { lockDir: dir });
  const seen = [];
  reader.onUpdatePending((w) => seen.push(w)).dispose();
  await reader.release();
  assert.deepEqual(seen, []);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(
    [fs.existsSync(waiting), fs.existsSync(held)],
    [false, false],
    'the party that took the lock removed both',
  );
});

test('corrupted, truncated, oversized and future-version records are ignored with a reason', async (t) => {
  const { dir, tc, key } = await lockedDir(t);
  const good = JSON.stringify(ownRecord(key, tc, {}));
  const bad = {
    111111111111: '{not json',
    222222222222: good.slice(0, good.length / 2),
    333333333333: ' '.repeat(70 * 1024),
    444444444444: JSON.stringify(ownRecord(key, tc, { protocol: 99 })),
    555555555555: JSON.stringify({ protocol: 1, mode: 'read' }),
    666666666666: '',
  };
  for (const [id, text] of Object.entries(bad))
    fs.writeFileSync(path.join(dir, `${key}~${id}.json`), text);
  const [s] = engine.status({ lockDir: dir });
  const reasons = Object.fromEntries(
    s.problems.map((p) => [p.file.split('~')[1].slice(0, 12), p.reason]),
  );
  assert.match(reasons['111111111111'], /not valid JSON/);
  assert.match(reasons['222222222222'], /not valid JSON/);
  assert.match(reasons['333333333333'], /oversized/);
  assert.match(reasons['444444444444'], /newer than this tool/);
  assert.match(reasons['555555555555'], /state|pid|host/);
  assert.match(reasons['666666666666'], /empty/);
  // And the lock still works around them.
  const w = await engine.acquireWrite([{ name: 'tc', path: tc }], {
    lockDir: dir,
    timeoutMs: 2000,
  });
  await w.release();
});

test('a symlink planted as a record or lock file is not followed', async (t) => {
  const { dir, tc, key } = await lockedDir(t);
  const secret = path.join(path.dirname(dir), 'secret.json');
  fs.writeFileSync(secret, JSON.stringify(ownRecord(key, tc, {})));
  fs.symlinkSync(secret, path.join(dir, `${key}~cccccccccccc.json`));
  const [s] = engine.status({ lockDir: dir });
  assert.equal(s.holders.length, 0);
  assert.equal(s.problems.length, 1);
  fs.rmSync(path.join(dir, `${key}.lock`));
  fs.symlinkSync(secret, path.join(dir, `${key}.lock`));
  await assert.rejects(
    engine.acquireRead({ name: 'tc', path: tc }, { lockDir: dir }),
    (e) => e.code === 'E_LOCKFILE_UNSAFE' && /symbolic link/.test(e.message),
  );
});

test('a symlink planted where the toolchain description is written first is not followed', async (t) => {
  const root = tempDir(t);
  const dir = path.join(root, 'locks');
  fs.mkdirSync(dir, { mode: 0o700 });
  const tc = path.join(root, 'toolchain');
  fs.mkdirSync(tc);
  const key = engine.toolchainKey(tc);
  const victim = path.join(root, 'victim');
  fs.writeFileSync(victim, 'precious\n');
  // The writer's pid is easy to guess (the next one); this process is the writer here.
  const planted = path.join(dir, `.${key}.toolchain.json.${process.pid}.tmp`);
  fs.symlinkSync(victim, planted);
  const r = await engine.acquireRead({ name: 'tc', path: tc }, { lockDir: dir });
  await r.release();
  assert.equal(
    fs.readFileSync(victim, 'utf8'),
    'precious\n',
    'the file the link points at is untouched',
  );
  assert.equal(
    JSON.parse(fs.readFileSync(path.join(dir, `${key}.toolchain.json`), 'utf8')).path,
    tc,
  );
});

test('hostile lock directories are refused with a clear error', async (t) => {
  const root = tempDir(t);
  const tc = path.join(root, 'tc');
  fs.mkdirSync(tc);
  const real = path.join(root, 'real');
  fs.mkdirSync(real, { mode: 0o700 });
  const link = path.join(root, 'link');
  fs.symlinkSync(real, link);
  const open = path.join(root, 'open');
  fs.mkdirSync(open);
  fs.chmodSync(open, 0o777);
  const sticky = path.join(root, 'sticky');
  fs.mkdirSync(sticky);
  fs.chmodSync(sticky, 0o1777);
  const notDir = path.join(root, 'file');
  fs.writeFileSync(notDir, '');
  const cases = [
    [link, 'E_LOCKDIR_UNSAFE', /symbolic link/],
    [open, 'E_LOCKDIR_UNSAFE', /writable by others/],
    [notDir, 'E_LOCKDIR_UNSAFE', /not a directory/],
  ];
  if (process.getuid() === 0) {
    const foreign = path.join(root, 'foreign');
    fs.mkdirSync(foreign, { mode: 0o700 });
    fs.chownSync(foreign, 65534, 65534);
    cases.push([foreign, 'E_LOCKDIR_UNSAFE', /belongs to uid 65534/]);
  }
  for (const [dir, code, message] of cases) {
    await assert.rejects(
      engine.acquireRead({ name: 'tc', path: tc }, { lockDir: dir }),
      (e) => e.code === code && message.test(e.message),
      dir,
    );
    assert.throws(
      () => engine.status({ lockDir: dir }),
      (e) => e.code === code,
      dir,
    );
  }
  const r = await engine.acquireRead({ name: 'tc', path: tc }, { lockDir: sticky });
  await r.release();
});

test('a record claiming another uid than its file owner is forged: ignored and reported, never stepped aside for', async (t) => {
  const { dir, tc, key } = await lockedDir(t);
  // In a shared sticky directory another user writes a pending writer "from" us (uid 0 here).
  fs.chmodSync(dir, 0o1777);
  const file = path.join(dir, `${key}~bbbbbbbbbbbb.json`);
  fs.writeFileSync(
    file,
    JSON.stringify(
      ownRecord(key, tc, {
        id: 'bbbbbbbbbbbb',
        state: 'waiting',
        mode: 'write',
        command: ['rustup', 'update'],
      }),
    ),
  );
  fs.chownSync(file, 4242, 4242);
  const [s] = engine.status({ lockDir: dir });
  assert.equal(s.writer, null, 'the forged writer is not believed');
  assert.equal(s.state, 'free');
  assert.match(
    s.problems.find((p) => p.file === path.basename(file))?.reason ?? '',
    /forged: claims uid 0 .* belongs to uid 4242/,
  );
  const reader = await engine.acquireRead({ name: 'tc', path: tc }, { lockDir: dir });
  t.after(() => reader.release());
  const seen = [];
  const sub = reader.onUpdatePending((w) => seen.push(w));
  t.after(() => sub.dispose());
  assert.deepEqual(seen, [], 'a reader does not step aside for it');
});

test('a writer record nothing can prove dead does not make readers step aside until the kernel confirms a writer', async (t) => {
  const { dir, tc, key } = await lockedDir(t);
  // A writer of another host (liveness unknown for ever) that left its intent behind.
  fs.writeFileSync(
    path.join(dir, `${key}~cccccccccccc.json`),
    JSON.stringify(
      ownRecord(key, tc, {
        id: 'cccccccccccc',
        host: 'elsewhere',
        pid: 4242,
        state: 'waiting',
        mode: 'write',
      }),
    ),
  );
  const reader = await engine.acquireRead(
    { name: 'tc', path: tc },
    { lockDir: dir, pollIntervalMs: 100 },
  );
  t.after(() => reader.release());
  const seen = [];
  const sub = reader.onUpdatePending((w) => seen.push(w));
  t.after(() => sub.dispose());
  await new Promise((r) => setTimeout(r, 400));
  assert.deepEqual(seen, [], 'no writer holds the gate: nothing to step aside for');
  // A real writer: its record and the gate.
  const writer = engine.acquireWrite([{ name: 'tc', path: tc }], {
    lockDir: dir,
    client: 'real-writer',
  });
  for (let i = 0; i < 200 && seen.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(seen.length, 1, 'the real writer is noticed');
  assert.equal(seen[0].client, 'real-writer');
  await reader.release();
  await (await writer).release();
});

/**
 * A process that has exited and whose parent never reaps it: a zombie, as every orphan is under a
 * container's init that does not wait() (Docker without --init). Returns its pid and start time.
 */
async function zombie(t) {
  // The shell starts a short sleep, then becomes a long one, which never waits for that child
  // (the shell itself would reap it, had it ended before the exec).
  const parent = spawn('sh', ['-c', 'sleep 0.2 & echo $!; exec sleep 60'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  t.after(() => parent.kill('SIGKILL'));
  const pid = Number(
    await new Promise((resolve) => parent.stdout.once('data', (d) => resolve(String(d).trim()))),
  );
  for (let i = 0; ; i++) {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z') return { pid, startTime: fields[19] };
    assert.ok(i < 500, `process ${pid} never became a zombie`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('a record whose processes have exited but are not reaped (zombies) is dead: removed, never stepped aside for', async (t) => {
  const { dir, tc, key } = await lockedDir(t);
  // `toolchain-lock update` killed alone: its wrapper is gone, and its command has ended since,
  // but nobody reaps it. A zombie holds no lock and no file; its pid cannot be reused meanwhile.
  const wrapper = Number(
    String(spawnSync(process.execPath, ['-e', 'console.log(process.pid)']).stdout).trim(),
  );
  const command = await zombie(t);
  const file = path.join(dir, `${key}~eeeeeeeeeeee.json`);
  fs.writeFileSync(
    file,
    JSON.stringify(
      ownRecord(key, tc, {
        id: 'eeeeeeeeeeee',
        pid: wrapper,
        startTime: '1',
        mode: 'write',
        state: 'held',
        command: ['rustup', 'update'],
        children: [command],
      }),
    ),
  );
  const reader = await engine.acquireRead(
    { name: 'tc', path: tc },
    { lockDir: dir, pollIntervalMs: 100 },
  );
  t.after(() => reader.release());
  const seen = [];
  const sub = reader.onUpdatePending((w) => seen.push(w));
  t.after(() => sub.dispose());
  await new Promise((r) => setTimeout(r, 400));
  assert.deepEqual(
    seen.map((w) => w.command),
    [],
    'a reader does not step aside for an update that has ended',
  );
  const [s] = engine.status({ lockDir: dir });
  assert.equal(s.writer, null);
  assert.equal(
    fs.existsSync(file),
    false,
    'the record of processes that have all exited is removed',
  );
});

test('a writer giving way to a reader that queued first names that reader while it waits', async (t) => {
  const { dir, tc, key } = await lockedDir(t);
  // A reader of this very process queued a moment ago (alive, earlier than the writer).
  const since = new Date(Date.now() - 1000).toISOString();
  fs.writeFileSync(
    path.join(dir, `${key}~dddddddddddd.json`),
    JSON.stringify(
      ownRecord(key, tc, {
        id: 'dddddddddddd',
        state: 'waiting',
        mode: 'read',
        since,
        command: ['cargo', 'build'],
      }),
    ),
  );
  const reports = [];
  const w = await engine.acquireWrite([{ name: 'tc', path: tc }], {
    lockDir: dir,
    pollIntervalMs: 100,
    onWait: (b) => reports.push(b),
  });
  await w.release();
  assert.ok(reports.length >= 1, 'the writer waited');
  assert.deepEqual(
    reports[0].map((h) => [h.mode, h.state, h.command.join(' ')]),
    [['read', 'waiting', 'cargo build']],
    'not "a holder we cannot name"',
  );
});

test('an idle reader is told when its lock directory is moved away', async (t) => {
  const { dir, tc } = await lockedDir(t);
  const warnings = [];
  const reader = await engine.acquireRead(
    { name: 'tc', path: tc },
    { lockDir: dir, onWarning: (m) => warnings.push(m) },
  );
  const sub = reader.onUpdatePending(() => {});
  fs.renameSync(dir, `${dir}-moved`);
  t.after(() => fs.rmSync(`${dir}-moved`, { recursive: true, force: true }));
  for (let i = 0; i < 100 && warnings.length === 0; i++)
    await new Promise((r) => setTimeout(r, 20));
  sub.dispose();
  await reader.release();
  assert.match(warnings.join('\n'), /was removed or moved while in use/);
});

test('temporary files a writer killed mid-write left behind are removed once old; fresh ones and others stay', async (t) => {
  const { dir, key } = await lockedDir(t);
  const old = path.join(dir, `.${key}~aaaaaaaaaaaa.json.4242.a1b2c3.tmp`);
  const oldMeta = path.join(dir, `.${key}.toolchain.json.4242.d4e5f6.tmp`);
  const fresh = path.join(dir, `.${key}~bbbbbbbbbbbb.json.4243.a1b2c3.tmp`);
  const other = path.join(dir, '.someone-elses-file.tmp');
  for (const f of [old, oldMeta, fresh, other]) fs.writeFileSync(f, '{');
  const hourAgo = new Date(Date.now() - 3600_000);
  for (const f of [old, oldMeta, other]) fs.utimesSync(f, hourAgo, hourAgo);
  engine.status({ lockDir: dir });
  assert.deepEqual(
    [old, oldMeta, fresh, other].map((f) => fs.existsSync(f)),
    [true, true, true, true],
    'status only looks',
  );
  assert.deepEqual(
    engine.clean({ lockDir: dir }).map((r) => r.reason),
    ['abandoned temporary file', 'abandoned temporary file'],
  );
  assert.deepEqual(
    [old, oldMeta, fresh, other].map((f) => fs.existsSync(f)),
    [false, false, true, true],
  );
});

/** Every name in `dir` with its modification time: what a look must leave as it was. */
function listing(dir) {
  return fs
    .readdirSync(dir)
    .sort()
    .map((n) => `${n} ${fs.lstatSync(path.join(dir, n)).mtimeMs}`);
}

test('looking never writes: status and watch leave dead records and old temporary files; a party taking the lock removes them', async (t) => {
  const { dir, tc, key } = await lockedDir(t);
  const deadPid = Number(
    String(spawnSync(process.execPath, ['-e', 'console.log(process.pid)']).stdout).trim(),
  );
  const dead = path.join(dir, `${key}~aaaaaaaaaaaa.json`);
  fs.writeFileSync(dead, JSON.stringify(ownRecord(key, tc, { pid: deadPid, startTime: '1' })));
  const temp = path.join(dir, `.${key}~bbbbbbbbbbbb.json.4242.a1b2c3.tmp`);
  fs.writeFileSync(temp, '{');
  const hourAgo = new Date(Date.now() - 3600_000);
  fs.utimesSync(temp, hourAgo, hourAgo);
  const before = listing(dir);
  engine.status({ lockDir: dir });
  engine.status({ lockDir: dir, toolchains: [{ name: 'tc', path: tc }] });
  const w = engine.watch({ lockDir: dir, onEvent: () => {} });
  w.dispose();
  assert.deepEqual(listing(dir), before, 'nothing in the directory changed');
  const reader = await engine.acquireRead({ name: 'tc', path: tc }, { lockDir: dir });
  await new Promise((resolve) => setImmediate(resolve));
  await reader.release();
  assert.deepEqual(
    [fs.existsSync(dead), fs.existsSync(temp)],
    [false, false],
    'the reader cleaned up',
  );
});

test('a short writer still removes a held record it proved stale (PROTOCOL.md §3 writer step 4)', async (t) => {
  const { dir, tc, key } = await lockedDir(t);
  // A held read record of another boot that is not provably dead: only a writer holding LOCK_EX
  // knows it holds nothing.
  const file = path.join(dir, `${key}~cccccccccccc.json`);
  fs.writeFileSync(
    file,
    JSON.stringify(ownRecord(key, tc, { id: 'cccccccccccc', bootId: 'another-boot', pid: 999997 })),
  );
  const w = await engine.acquireWrite([{ name: 'tc', path: tc }], { lockDir: dir });
  await w.release();
  assert.equal(
    fs.existsSync(file),
    false,
    'removed although the writer released before its records were settled',
  );
  // Control: a reader proves nothing and leaves it.
  fs.writeFileSync(
    file,
    JSON.stringify(ownRecord(key, tc, { id: 'cccccccccccc', bootId: 'another-boot', pid: 999997 })),
  );
  const r = await engine.acquireRead({ name: 'tc', path: tc }, { lockDir: dir });
  await new Promise((resolve) => setImmediate(resolve));
  await r.release();
  assert.equal(fs.existsSync(file), true);
});

test('a held record of another boot of this host is no holder, and status says why (PROTOCOL.md §4.2)', async (t) => {
  const { dir, tc, key } = await lockedDir(t);
  const file = `${key}~cccccccccccc.json`;
  fs.writeFileSync(
    path.join(dir, file),
    JSON.stringify(ownRecord(key, tc, { id: 'cccccccccccc', bootId: 'another-boot', pid: 999997 })),
  );
  const [s] = engine.status({ lockDir: dir });
  assert.deepEqual([s.state, s.holders], ['free', []]);
  assert.deepEqual(
    s.problems.map((p) => p.file),
    [file],
  );
  assert.match(s.problems[0].reason, /another boot of this host/);
});
