// The shims with bad input (no real program, a toolchain file that does not parse, shims behind
// ~/.cargo/bin, on PATH twice, a runtime gone), waiting for an update, and the rustup shim's
// locks, with the machine's real rustup in a private world. Every test ends with no lock held.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { bundle } from '../unit/extension-harness.mjs';
import { start, statusOf, until } from '../fixtures/cli-harness.mjs';
import { spawnHolder } from '../helpers.mjs';
import { full, machineRustup, shimWorld } from '../fixtures/shim-world.mjs';

const skipNoRustup = (t) => {
  if (machineRustup() !== null) return false;
  t.skip('skipped: no rustup');
  return true;
};

async function heldLocks(env) {
  return (await statusOf(env)).toolchains
    .filter((s) => s.state !== 'free')
    .map((s) => `${s.name} ${s.state}`);
}

test('no real program behind a shim: exit 127 with what to do; a shim whose toolchain-lock is gone says so', async (t) => {
  if (skipNoRustup(t)) return;
  const w = shimWorld(t);
  await w.install();
  const r = await w
    .start(['cargo', '--version'], { env: { ...w.env, PATH: [w.shimDir, ...w.system].join(':') } })
    .result();
  assert.equal(r.code, 127);
  assert.equal(
    r.stderr,
    `toolchain-lock: no real cargo on PATH besides the shims in ${w.shimDir}. Install rustup, or put its directory (~/.cargo/bin) on PATH after the shims.\n`,
  );
  const shim = path.join(w.shimDir, 'rustc');
  fs.writeFileSync(
    shim,
    fs.readFileSync(shim, 'utf8').replace(/^cli=.*$/m, `cli='${w.dir}/gone/cli.js'`),
  );
  const gone = await w.start(['rustc', '--version']).result();
  assert.equal(gone.code, 127);
  assert.match(
    gone.stderr,
    /the shim .*\/rustc cannot start toolchain-lock: .* or .*gone\/cli\.js is gone\. Run `toolchain-lock shims install` again, or take .* off PATH\./,
  );
  assert.deepEqual(await heldLocks(w.env), []);
});

test('a toolchain file that does not parse: exit 78 naming it, nothing run, no lock', async (t) => {
  if (skipNoRustup(t)) return;
  const w = shimWorld(t);
  await w.install();
  const dir = w.project('broken');
  fs.writeFileSync(path.join(dir, 'rust-toolchain.toml'), '[toolchain\nchannel = "nightly"\n');
  const r = await w.start(['cargo', 'build'], { cwd: dir }).result();
  assert.equal(r.code, 78, r.stderr);
  assert.match(
    r.stderr,
    /^toolchain-lock: .*broken\/rust-toolchain\.toml is not valid TOML \(line 1.*\)\. Fix the file; rustup cannot read it either\./,
  );
  assert.equal(fs.existsSync(path.join(dir, 'target')), false, 'cargo did not run');
  assert.deepEqual(await heldLocks(w.env), []);
});

test('shims behind ~/.cargo/bin or on PATH twice still run the real program and say what is wrong', async (t) => {
  if (skipNoRustup(t)) return;
  const w = shimWorld(t);
  await w.install();
  const behind = await w
    .start([path.join(w.shimDir, 'cargo'), '--version'], {
      env: { ...w.env, PATH: [w.cargoBin, w.shimDir, ...w.system].join(':') },
    })
    .result();
  assert.equal(behind.code, 0, behind.stderr);
  assert.match(behind.stdout, /^cargo 1\./);
  assert.equal(
    behind.stderr,
    `toolchain-lock: warning: ${w.cargoBin} comes before the shims in ${w.shimDir} on PATH, so a plain \`cargo\` runs ${w.cargoBin}/cargo without the lock. Put the shims first: \`toolchain-lock shell-init\` at the end of your shell profile.\n`,
  );
  const twice = await w
    .start(['cargo', '--version'], {
      env: { ...w.env, PATH: [w.shimDir, w.shimDir, w.cargoBin, ...w.system].join(':') },
    })
    .result();
  assert.equal(twice.code, 0, twice.stderr);
  assert.match(twice.stdout, /^cargo 1\./);
  assert.match(twice.stderr, /warning: the shim directory .* is on PATH 2 times; once is enough/);
  assert.deepEqual(await heldLocks(w.env), []);
});

test('the POSIX shim and `findReal` pick the same real program for every PATH layout (stand-in programs: only the PATH rule is tested)', async (t) => {
  const w = shimWorld(t);
  const lib = (
    await bundle(path.join(w.dir, 'bundle'), 'toolchains', "export * from './src/toolchains';")
  ).module;
  const dirs = Object.fromEntries(['a', 'b', 'copy', 'empty'].map((n) => [n, path.join(w.dir, n)]));
  for (const d of Object.values(dirs)) fs.mkdirSync(d);
  for (const n of ['a', 'b'])
    fs.writeFileSync(path.join(dirs[n], 'rustc'), `#!/bin/sh\necho ${n}\n`, { mode: 0o755 });
  fs.writeFileSync(path.join(dirs.copy, '.toolchain-lock-shims'), '{}');
  fs.writeFileSync(path.join(dirs.copy, 'rustc'), '#!/bin/sh\necho copy\n', { mode: 0o755 });
  lib.installShims(w.shimDir, ['rustc'], {
    node: process.execPath,
    cli: path.join(w.dir, 'no-cli.js'),
    electron: false,
  });
  const layouts = [
    [w.shimDir, dirs.a, dirs.b],
    [dirs.a, w.shimDir, dirs.b],
    [w.shimDir, dirs.copy, dirs.b],
    [dirs.a, dirs.b, w.shimDir],
    [dirs.empty, '', w.shimDir, '', dirs.b],
    [dirs.a, dirs.b],
    [w.shimDir, dirs.empty],
  ];
  for (const layout of layouts) {
    const env = {
      PATH: layout.join(':'),
      RUSTUP_HOME: '/r',
      RUSTUP_TOOLCHAIN: 't',
      TOOLCHAIN_LOCK_SHIM_TOOLCHAIN: '/r/toolchains/t',
    };
    const expected = lib.findReal('rustc', w.shimDir, env);
    // The marker says the toolchain is held: the shim runs the real program straight, or fails.
    const r = spawnSync('/bin/sh', [path.join(w.shimDir, 'rustc')], { env, encoding: 'utf8' });
    const picked = r.status === 127 ? null : path.join(dirs[r.stdout.trim()], 'rustc');
    assert.equal(picked, expected, `PATH=${env.PATH}: ${r.stderr}`);
  }
});

test('a shim waiting for an update says so once, and says once that an update waits for it', async (t) => {
  if (skipNoRustup(t)) return;
  const w = shimWorld(t);
  await w.install();
  const stable = w.toolchainPath(full('stable'));
  const writer = spawnHolder(t, ['--dir', w.lockDir, '--mode', 'write', '--toolchain', stable]);
  await writer.next('acquired');
  const rustc = w.start(['rustc', '--version']);
  await rustc.waitFor('stderr', /waiting for the read lock/);
  writer.send('release');
  const r = await rustc.result();
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^rustc 1\./);
  assert.equal(
    r.stderr.match(/waiting for the read lock of stable-.*; blocked by updating/g)?.length,
    1,
    r.stderr,
  );
  assert.match(r.stderr, /got the read lock of stable-.* after \d+\.\d s\n$/);

  const reader = w.start([
    'rustc',
    '-',
    '--crate-name',
    'probe',
    '--crate-type',
    'lib',
    '--emit=metadata',
    '-o',
    path.join(os.tmpdir(), `tl-shims-bad-probe-${process.pid}.rmeta`),
  ]);
  await until(async () => (await heldLocks(w.env)).length > 0, 'rustc holds');
  const update = spawnHolder(t, ['--dir', w.lockDir, '--mode', 'write', '--toolchain', stable]);
  await reader.waitFor(
    'stderr',
    /an update of stable-.* is waiting for `rustc - --crate-name probe .*` to finish: .*It starts when this command exits\./,
  );
  reader.child.stdin.end();
  assert.equal((await reader.result()).code, 0);
  await update.next('acquired');
  assert.equal(reader.out.stderr.match(/is waiting for/g).length, 1);
  update.send('release');
  await update.next('released');
  assert.deepEqual(await heldLocks(w.env), []);
});

test('the rustup shim: a change waits for the write lock, a read-only command does not, and inside an update it runs straight', async (t) => {
  if (skipNoRustup(t)) return;
  const w = shimWorld(t);
  await w.install();
  const custom = path.join(w.dir, 'custom');
  for (const d of ['bin', 'lib']) fs.mkdirSync(path.join(custom, d), { recursive: true });
  fs.writeFileSync(path.join(custom, 'bin', 'rustc'), '', { mode: 0o755 });
  const dev = w.toolchainPath('dev');
  const reader = spawnHolder(t, ['--dir', w.lockDir, '--mode', 'read', '--toolchain', dev]);
  await reader.next('acquired');
  const link = w.start(['rustup', 'toolchain', 'link', 'dev', custom]);
  await link.waitFor('stderr', /waiting for the write lock of dev; blocked by reader/);
  // Meanwhile read-only commands go straight through.
  const list = await w.start(['rustup', 'toolchain', 'list']).result();
  assert.equal(list.code, 0, list.stderr);
  assert.doesNotMatch(list.stdout, /^dev/m);
  reader.send('release');
  const linked = await link.result();
  assert.equal(linked.code, 0, linked.stderr);
  assert.match((await w.start(['rustup', 'toolchain', 'list']).result()).stdout, /^dev$/m);

  // `toolchain-lock update T -- rustup …` holds T's write lock; its rustup (a shim) must not wait for it.
  const nested = await start(
    ['update', w.toolchainPath('dev2'), '--', 'rustup', 'toolchain', 'link', 'dev2', custom],
    { env: w.env, cwd: w.dir },
  ).result();
  assert.equal(nested.code, 0, nested.stderr);
  assert.match((await w.start(['rustup', 'toolchain', 'list']).result()).stdout, /^dev2$/m);
  assert.deepEqual(await heldLocks(w.env), []);
});

test('the Windows shim is a .cmd that always runs toolchain-lock (text only: no Windows here); Electron only for the runtime', async (t) => {
  const w = shimWorld(t);
  const lib = (
    await bundle(path.join(w.dir, 'bundle'), 'toolchains', "export * from './src/toolchains';")
  ).module;
  assert.equal(lib.shimFileName('cargo', 'win32'), 'cargo.cmd');
  const text = lib.shimScript(
    'cargo',
    'C:\\Users\\me\\AppData\\Local\\toolchain-lock\\shims',
    { node: 'C:\\Code\\Code.exe', cli: 'C:\\ext\\dist\\cli.js', electron: true },
    'win32',
  );
  assert.equal(
    text,
    [
      '@echo off',
      'rem toolchain-lock shim: runs `cargo` under the lock of the toolchain it uses. Written by `toolchain-lock shims install`; `toolchain-lock shims uninstall` removes it.',
      'setlocal',
      'set ELECTRON_RUN_AS_NODE=1',
      '"C:\\Code\\Code.exe" "C:\\ext\\dist\\cli.js" shims exec --dir "C:\\Users\\me\\AppData\\Local\\toolchain-lock\\shims" --electron -- cargo %*',
      '',
    ].join('\r\n'),
  );
  assert.throws(
    () => lib.shimScript('a b', 'C:\\s', { node: 'n', cli: 'c', electron: false }, 'win32'),
    /not a program name a shim can have/,
  );
});

test("an Electron runtime's ELECTRON_RUN_AS_NODE reaches toolchain-lock, not the program (Node stands in for Electron: it ignores the variable)", async (t) => {
  if (skipNoRustup(t)) return;
  const w = shimWorld(t);
  const lib = (
    await bundle(path.join(w.dir, 'bundle'), 'toolchains', "export * from './src/toolchains';")
  ).module;
  lib.installShims(w.shimDir, ['rustup'], {
    node: process.execPath,
    cli: path.resolve('dist/cli.js'),
    electron: true,
  });
  const r = await w
    .start([
      'rustup',
      'run',
      'stable',
      'sh',
      '-c',
      'echo "${ELECTRON_RUN_AS_NODE-unset} $TOOLCHAIN_LOCK_HELD"',
    ])
    .result();
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^unset stable-.*-[0-9a-f]{12}\n$/);
  assert.deepEqual(await heldLocks(w.env), []);
});
