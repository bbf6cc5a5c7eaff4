// The toolchain-lock command line: help, exit statuses, toolchain names, status --json, watch,
// nested locking. Real processes (`node dist/cli.js`), real flock, a temp lock dir per test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  cli,
  HOST,
  loggingRustup,
  ROOT,
  sandbox,
  start,
  stateOf,
  statusOf,
} from '../fixtures/cli-harness.mjs';

const node = (code) => [process.execPath, '-e', code];
/** A rustup home with stable, nightly and 1.95.0 for the host, and a fake `rustup` on PATH that logs its arguments. */
const fakeRustup = (box) => loggingRustup(box, ['stable', 'nightly', '1.95.0']);

test('--help, help COMMAND, COMMAND --help and --version', async () => {
  const main = await cli(['--help']);
  assert.equal(main.code, 0);
  for (const usage of [
    'status [TOOLCHAIN ...] [--json]',
    'run [TOOLCHAIN] [--purpose TEXT] -- CMD [ARG ...]',
    'update TOOLCHAIN [TOOLCHAIN ...] [--timeout SECONDS] [--no-wait] [--purpose TEXT] [--unlocked wait|proceed|fail] [--unlocked-timeout SECONDS] [-- CMD [ARG ...]]',
    'watch [TOOLCHAIN ...] [--json]',
  ]) {
    assert.ok(main.stdout.includes(`toolchain-lock ${usage}`), usage);
  }
  for (const command of ['status', 'run', 'update', 'watch']) {
    const viaHelp = await cli(['help', command]);
    const viaFlag = await cli([command, '--help']);
    assert.equal(viaHelp.code, 0);
    assert.equal(viaFlag.stdout, viaHelp.stdout);
    assert.match(viaHelp.stdout, new RegExp(`^Usage: toolchain-lock ${command} `));
  }
  const { version } = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  assert.equal((await cli(['--version'])).stdout, `toolchain-lock ${version}\n`);
});

test('usage errors exit 64 and say what to write', async (t) => {
  const { env, toolchain } = sandbox(t);
  const tc = toolchain();
  const cases = [
    [[], /Usage:/],
    [['frobnicate'], /toolchain-lock: Unknown command `frobnicate`/],
    [['constructor'], /toolchain-lock: Unknown command `constructor`/],
    [['run', tc, 'true'], /Give the command to run after `--`/],
    [['run', tc, tc, '--', 'true'], /takes at most one TOOLCHAIN/],
    [['update', tc, '--bogus'], /Unknown option --bogus for `update`/],
    [['update', tc, '--timeout', 'soon', '--', 'true'], /--timeout wants a number of seconds/],
    [['update', tc, '--timeout', '1', '--no-wait', '--', 'true'], /either --timeout or --no-wait/],
    [
      ['update', tc],
      /No update command is known for tc \(not a rustup toolchain\)\. Give it after `--`/,
    ],
    [['status', '--', 'x'], /runs no command/],
  ];
  for (const [args, message] of cases) {
    const r = await cli(args, { env });
    assert.equal(r.code, 64, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
});

test('run passes CMD its own exit status, 128+N for a signal, 127 when not found; the lock is free after', async (t) => {
  const { env, toolchain } = sandbox(t);
  const tc = toolchain();
  assert.equal((await cli(['run', tc, '--', ...node('process.exit(5)')], { env })).code, 5);
  assert.equal(
    (await cli(['run', tc, '--', ...node("process.kill(process.pid, 'SIGTERM')")], { env })).code,
    143,
  );
  const missing = await cli(['run', tc, '--', 'no-such-command-xyz', '--flag'], { env });
  assert.equal(missing.code, 127);
  assert.match(
    missing.stderr,
    /^toolchain-lock: cannot run no-such-command-xyz: command not found/m,
  );
  const gone = path.join(path.dirname(tc), 'no-such-dir', 'updater');
  const missingPath = await cli(['run', tc, '--', gone], { env });
  assert.equal(missingPath.code, 127);
  assert.match(
    missingPath.stderr,
    new RegExp(`^toolchain-lock: cannot run ${gone}: no such file\\.`, 'm'),
  );
  assert.doesNotMatch(missingPath.stderr, /PATH/, 'a path is not looked up in PATH');
  assert.equal(await stateOf(env, tc), 'free');
  const updateMissing = await cli(['update', tc, '--', 'no-such-command-xyz'], { env });
  assert.equal(updateMissing.code, 127);
  assert.equal(await stateOf(env, tc), 'free');
  assert.equal((await cli(['update', tc, '--no-wait', '--', 'true'], { env })).code, 0);
});

test('a command the system refuses to start at once (Node throws, not an error event) gets 126 and a clear message; the lock is free after', async (t) => {
  // ENOTDIR (a path through a file) makes spawn() throw synchronously on Linux, as spawn UNKNOWN
  // does under Windows when CreateProcess fails for an unlisted reason.
  const { env, toolchain } = sandbox(t);
  const tc = toolchain();
  const file = path.join(path.dirname(tc), 'a-file');
  fs.writeFileSync(file, '');
  const through = path.join(file, 'updater');
  for (const verb of ['run', 'update']) {
    const r = await cli([verb, tc, '--', through, '--flag'], { env });
    assert.equal(r.code, 126, `${verb}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`^toolchain-lock: cannot run ${through}: .*ENOTDIR`, 'm'));
    assert.doesNotMatch(r.stderr, /internal error|bug in toolchain-lock/);
    assert.equal(await stateOf(env, tc), 'free', `${verb}: the lock is free after`);
  }
});

test('CMD gets the lock as fd 3 and the nested-write marker; the command is argv, not a shell string', async (t) => {
  const { env, toolchain } = sandbox(t);
  const tc = toolchain();
  const r = await cli(
    [
      'run',
      tc,
      '--',
      ...node(
        "const fs = require('fs'); console.log(fs.readlinkSync('/proc/self/fd/3')); console.log(process.env.TOOLCHAIN_LOCK_HELD); console.log(process.argv[1])",
      ),
      'a b; echo not-a-shell',
    ],
    { env },
  );
  assert.equal(r.code, 0, r.stderr);
  const [fd3, held, arg] = r.stdout.trim().split('\n');
  const { lockFile, key } = (await statusOf(env, tc)).toolchains[0];
  assert.equal(fd3, lockFile);
  assert.equal(held, key);
  assert.equal(arg, 'a b; echo not-a-shell');
});

test('unknown toolchains exit 78 and list the known ones', async (t) => {
  const box = sandbox(t);
  const { env } = fakeRustup(box);
  const r = await cli(['run', 'stabel', '--', 'true'], { env });
  assert.equal(r.code, 78);
  assert.match(
    r.stderr,
    new RegExp(
      `^toolchain-lock: Unknown toolchain "stabel"\\. Known toolchains: 1\\.95\\.0-${HOST} \\(rustup\\), nightly-${HOST} \\(rustup\\), stable-${HOST} \\(rustup\\)\\. Looked in rustup's toolchains directory ${box.env.RUSTUP_HOME}/toolchains`,
    ),
  );
  // status and update take a directory an install is about to create; run needs it to exist.
  const missingDir = await cli(['run', './not-there', '--', 'true'], { env, cwd: box.dir });
  assert.equal(missingDir.code, 78);
  assert.match(missingDir.stderr, /not-there is not an existing directory/);
});

test('rustup names resolve against RUSTUP_HOME; update without CMD runs `rustup update NAME`', async (t) => {
  const box = sandbox(t);
  const { env, log } = fakeRustup(box);
  const stablePath = path.join(box.env.RUSTUP_HOME, 'toolchains', `stable-${HOST}`);
  const viaName = (await statusOf(env, 'stable')).toolchains[0];
  const viaPath = (await statusOf(env, stablePath)).toolchains[0];
  assert.deepEqual([viaName.name, viaName.path], [`stable-${HOST}`, stablePath]);
  assert.equal(viaName.key, viaPath.key, 'a name and the path it stands for share one lock');
  const u = await cli(['update', 'stable', 'nightly'], { env });
  assert.equal(u.code, 0, u.stderr);
  const one = await cli(['update', '1.95.0'], { env });
  assert.equal(one.code, 0, one.stderr);
  assert.deepEqual(fs.readFileSync(log, 'utf8').trim().split('\n'), [
    `update stable-${HOST} nightly-${HOST}`,
    `update 1.95.0-${HOST}`,
  ]);
});

test('status --json follows the documented schema', async (t) => {
  const { env, lockDir, toolchain } = sandbox(t);
  const tc = toolchain();
  const other = toolchain('other');
  assert.deepEqual(await statusOf(env), { protocol: 1, lockDir, toolchains: [] });
  const reader = start(
    [
      'run',
      tc,
      '--purpose',
      'schema test',
      '--',
      ...node("console.log('started'); process.stdin.once('data', () => process.exit(0));"),
    ],
    { env },
  );
  await reader.waitFor('stdout', /started/);
  const update = start(['update', tc, '--purpose', 'new release', '--', 'true'], { env });
  await update.waitFor('stderr', /waiting for the write lock/);
  assert.equal((await cli(['run', other, '--', 'true'], { env })).code, 0);

  const doc = await statusOf(env);
  assert.deepEqual(Object.keys(doc), ['protocol', 'lockDir', 'toolchains']);
  assert.deepEqual([doc.protocol, doc.lockDir], [1, lockDir]);
  assert.deepEqual(doc.toolchains.map((s) => s.name).sort(), ['other', 'tc']);
  const s = doc.toolchains.find((x) => x.name === 'tc');
  assert.deepEqual(Object.keys(s), [
    'name',
    'path',
    'key',
    'state',
    'lockFile',
    'gateFile',
    'holders',
    'writer',
    'waiting',
    'problems',
    'unlocked',
    'unlockedWriter',
  ]);
  assert.equal(s.path, tc);
  assert.match(s.key, /^tc-[0-9a-f]{12}$/);
  assert.equal(s.state, 'update-pending');
  assert.equal(s.lockFile, path.join(lockDir, `${s.key}.lock`));
  const HOLDER_KEYS = [
    'mode',
    'state',
    'pid',
    'host',
    'user',
    'client',
    'command',
    'purpose',
    'since',
    'liveness',
    'foreign',
    'children',
    'self',
    'recordId',
  ];
  assert.equal(s.holders.length, 1);
  const h = s.holders[0];
  assert.deepEqual(Object.keys(h).sort(), [...HOLDER_KEYS].sort());
  assert.deepEqual(
    [h.mode, h.state, h.pid, h.client, h.purpose, h.liveness, h.foreign, h.self],
    ['read', 'held', reader.pid, 'cli', 'schema test', 'alive', false, false],
  );
  assert.equal(h.command[0], process.execPath);
  assert.equal(h.children.length, 1, 'the CMD that inherited the lock is listed');
  assert.notEqual(h.children[0], reader.pid);
  assert.ok(!Number.isNaN(Date.parse(h.since)));
  assert.deepEqual(
    [s.writer.mode, s.writer.state, s.writer.pid, s.writer.purpose, s.writer.command],
    ['write', 'waiting', update.pid, 'new release', ['true']],
  );
  assert.deepEqual(s.waiting, [s.writer]);
  assert.deepEqual(s.problems, []);
  assert.deepEqual(s.unlocked, []);
  assert.equal(s.unlockedWriter, null);
  assert.equal(doc.toolchains.find((x) => x.name === 'other').state, 'free');

  // The readable form says the same.
  const text = await cli(['status', tc], { env });
  assert.match(text.stdout, /^tc: update-pending\n/);
  assert.match(text.stdout, new RegExp(`lock file: ${s.lockFile}`));
  assert.match(text.stdout, /reader +.* \[schema test\] \(pid \d+/);
  assert.match(text.stdout, /update pending +true \[new release\]/);
  reader.send();
  assert.equal((await update.result()).code, 0);
});

test('a nested update inside run of the same toolchain is refused at once (76)', async (t) => {
  const { env, toolchain } = sandbox(t);
  const tc = toolchain();
  const started = Date.now();
  const r = await cli(
    [
      'run',
      tc,
      '--',
      process.execPath,
      path.join(ROOT, 'dist', 'cli.js'),
      'update',
      tc,
      '--',
      'true',
    ],
    { env },
  );
  assert.equal(r.code, 76, r.stderr);
  assert.ok(Date.now() - started < 10_000);
  assert.match(
    r.stderr,
    /toolchain-lock: Refusing to wait for the write lock of tc: .*Run the update outside of that command\./,
  );
  assert.equal(await stateOf(env, tc), 'free');
});

test('a nested run inside run does not queue behind a pending update (no deadlock)', async (t) => {
  const { env, toolchain } = sandbox(t);
  const tc = toolchain();
  const cliJs = path.join(ROOT, 'dist', 'cli.js');
  // The outer CMD waits for a line, then runs the inner `run`: by then an update is pending.
  const outer = start(
    [
      'run',
      tc,
      '--',
      ...node(
        `console.log('outer started'); process.stdin.once('data', () => { const r = require('child_process').spawnSync(process.execPath, [${JSON.stringify(cliJs)}, 'run', ${JSON.stringify(tc)}, '--', 'echo', 'inner ran'], { stdio: 'inherit' }); process.exit(r.status); });`,
      ),
    ],
    { env },
  );
  await outer.waitFor('stdout', /outer started/);
  const update = start(['update', tc, '--poll-interval', '100', '--', 'echo', 'updated'], { env });
  await update.waitFor('stderr', /waiting for the write lock/);
  outer.send();
  const o = await outer.result();
  assert.equal(o.code, 0, o.stderr);
  assert.match(o.stdout, /inner ran/);
  assert.match((await update.result()).stdout, /updated/);
});

test('watch prints lock events as JSON lines and stops on SIGINT with 0', async (t) => {
  const { env, toolchain } = sandbox(t);
  const tc = toolchain();
  const watcher = start(['watch', '--json', '--poll-interval', '100'], { env });
  await watcher.waitFor('stderr', /watching .* for lock events/);
  const reader = start(
    [
      'run',
      tc,
      '--',
      ...node("console.log('started'); process.stdin.once('data', () => process.exit(0));"),
    ],
    { env },
  );
  await reader.waitFor('stdout', /started/);
  await watcher.waitFor('stdout', /"event":"acquired"/);
  // The update holds the lock until told to finish, so the watcher sees it held: watch reports
  // states it observes, and a lock taken and dropped between two looks can be missed.
  const update = start(
    [
      'update',
      tc,
      '--poll-interval',
      '100',
      '--',
      ...node("console.log('updating'); process.stdin.once('data', () => process.exit(0));"),
    ],
    { env },
  );
  await watcher.waitFor('stdout', /"event":"update-pending"/);
  reader.send();
  await reader.result();
  await update.waitFor('stdout', /updating/);
  await watcher.waitFor('stdout', /"event":"update-started"/);
  update.send();
  assert.equal((await update.result()).code, 0);
  await watcher.waitFor('stdout', /"event":"update-done"/);
  watcher.kill('SIGINT');
  const w = await watcher.result();
  assert.equal(w.code, 0);
  const events = w.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  for (const e of events) {
    assert.deepEqual(Object.keys(e), ['protocol', 'time', 'event', 'key', 'toolchain', 'holder']);
    assert.equal(e.toolchain.path, tc);
  }
  const kinds = events.map((e) => e.event);
  for (const k of ['acquired', 'update-pending', 'released', 'update-started', 'update-done'])
    assert.ok(kinds.includes(k), `${k} in ${kinds}`);
  assert.ok(kinds.indexOf('released') < kinds.indexOf('update-started'), w.stdout);
});

test('an unsafe lock directory is refused with 77', async (t) => {
  const { env, lockDir, toolchain } = sandbox(t);
  const tc = toolchain();
  fs.mkdirSync(lockDir, { mode: 0o700 });
  fs.chmodSync(lockDir, 0o777);
  for (const args of [
    ['run', tc, '--', 'true'],
    ['update', tc, '--', 'true'],
    ['status'],
    ['watch'],
  ]) {
    const r = await cli(args, { env });
    assert.equal(r.code, 77, `${args[0]}: ${r.stderr}`);
    assert.match(r.stderr, /^toolchain-lock: The lock directory .* is writable by others/);
  }
  const viaOption = await cli(
    ['--lock-dir', path.join(lockDir, '..', 'fine'), 'status', '--json'],
    { env },
  );
  assert.equal(viaOption.code, 0, viaOption.stderr);
  assert.equal(JSON.parse(viaOption.stdout).lockDir, path.join(lockDir, '..', 'fine'));
});

test('clean removes what dead parties left and says so; status does not', async (t) => {
  const { env, lockDir, toolchain } = sandbox(t);
  const tc = toolchain();
  assert.equal((await cli(['run', tc, '--', 'true'], { env })).code, 0);
  const [entry] = (await statusOf(env, tc)).toolchains;
  const temp = path.join(lockDir, `.${entry.key}~aaaaaaaaaaaa.json.4242.a1b2c3.tmp`);
  fs.writeFileSync(temp, '{');
  const hourAgo = new Date(Date.now() - 3600_000);
  fs.utimesSync(temp, hourAgo, hourAgo);
  assert.equal((await cli(['status'], { env })).code, 0);
  assert.equal(fs.existsSync(temp), true, 'status only looks');
  const r = await cli(['clean', '--json'], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), {
    lockDir,
    removed: [{ file: path.basename(temp), reason: 'abandoned temporary file' }],
  });
  assert.equal(fs.existsSync(temp), false);
  const again = await cli(['clean', tc], { env });
  assert.equal(again.stdout, `Nothing to clean in ${lockDir}.\n`);
  assert.equal((await cli(['clean', '--', 'x'], { env })).code, 64);
});
