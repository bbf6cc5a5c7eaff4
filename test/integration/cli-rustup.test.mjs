// rustup-grade CLI: `which`, `run -- CMD` without TOOLCHAIN, not-installed and linked toolchains,
// and the `rustup` wrapper. With the real rustup on the test bed (test/fixtures/rustup-testbed.mjs):
// real updates and installs, watched mid-download through the bed's HTTP dist. The stand-in
// (test/fixtures/fake-rustup.mjs, which records its arguments and the locks `status --json` shows
// while it runs) stays only for the table of every rustup command's locks: the real rustup cannot
// report what was held while it ran a command that downloads nothing (show, uninstall, link,
// default), and the local dist has no rustfmt, clippy, wasm32 or 1.80.0 for the rest of the rows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CLI, cli, FIXTURES, HOST, sandbox, start, statusOf } from '../fixtures/cli-harness.mjs';
import { testbedOrSkip } from '../fixtures/rustup-testbed.mjs';

const full = (n) => `${n}-${HOST}`;

/** stable (default), nightly and 1.95.0 installed, `mine` linked; a project pinned to nightly; the stand-in rustup on PATH. */
function rustupWorld(t) {
  const box = sandbox(t);
  const home = box.env.RUSTUP_HOME;
  for (const n of ['stable', 'nightly', '1.95.0'])
    fs.mkdirSync(path.join(home, 'toolchains', full(n), 'bin'), { recursive: true });
  const custom = box.toolchain('custom-build');
  fs.symlinkSync(custom, path.join(home, 'toolchains', 'mine'));
  const settings = path.join(home, 'settings.toml');
  fs.writeFileSync(
    settings,
    `default_host_triple = "${HOST}"\ndefault_toolchain = "${full('stable')}"\n`,
  );
  const project = path.join(box.dir, 'project');
  fs.mkdirSync(path.join(project, 'src'), { recursive: true });
  fs.writeFileSync(path.join(project, 'rust-toolchain.toml'), '[toolchain]\nchannel = "nightly"\n');
  const bin = path.join(box.dir, 'bin');
  fs.mkdirSync(bin);
  fs.writeFileSync(
    path.join(bin, 'rustup'),
    `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(path.join(FIXTURES, 'fake-rustup.mjs'))} "$@"\n`,
    { mode: 0o755 },
  );
  const log = path.join(box.dir, 'rustup.log');
  const env = {
    ...box.env,
    PATH: `${bin}${path.delimiter}${box.env.PATH}`,
    FAKE_RUSTUP_LOG: log,
    FAKE_RUSTUP_HOST: HOST,
    RUSTUP_TOOLCHAIN: '',
  };
  /** The stand-in's records since the last call. */
  const calls = () => {
    const text = fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '';
    fs.rmSync(log, { force: true });
    return text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  };
  return { ...box, home, custom, settings, project, env, calls };
}

test('the rustup wrapper takes exactly the locks of each row of the table', async (t) => {
  const w = rustupWorld(t);
  const all = [full('1.95.0'), full('nightly'), full('stable')];
  const rows = [
    [['update'], 'write', all],
    [['update', 'stable', 'nightly'], 'write', [full('nightly'), full('stable')]],
    [['upgrade', '1.95.0', '--no-self-update'], 'write', [full('1.95.0')]],
    [
      ['toolchain', 'install', '1.80.0', '--profile', 'minimal', '-c', 'rustfmt', 'clippy'],
      'write',
      [full('1.80.0')],
    ],
    [['toolchain', 'uninstall', '1.95.0'], 'write', [full('1.95.0')]],
    [['toolchain', 'link', 'dev', w.custom], 'write', ['dev']],
    [['component', 'add', 'rustfmt'], 'write', [full('nightly')]],
    [['component', 'remove', '--toolchain', 'stable', 'rustfmt'], 'write', [full('stable')]],
    [['target', 'add', 'wasm32-unknown-unknown'], 'write', [full('nightly')]],
    [['+1.95.0', 'target', 'remove', 'wasm32-unknown-unknown'], 'write', [full('1.95.0')]],
    [['default', 'beta'], 'write', [full('beta')]],
    [['default', 'stable'], 'none', []],
    [['run', 'stable', 'cargo', 'build'], 'read', [full('stable')]],
    [['show'], 'none', []],
    [['which', 'cargo'], 'none', []],
    [['toolchain', 'list'], 'none', []],
    [['component', 'list'], 'none', []],
    [['--version'], 'none', []],
    [['doc', '--std'], 'none', []],
    // Unknown: every installed toolchain (1.80.0 was installed by the stand-in above), linked ones too.
    [['frobnicate', '--all'], 'write', [...all, full('1.80.0'), 'mine']],
  ];
  for (const [args, mode, names] of rows) {
    const r = await cli(['rustup', ...args], { env: w.env, cwd: w.project });
    const label = `rustup ${args.join(' ')}`;
    assert.equal(r.code, 0, `${label}: ${r.stderr}`);
    const [call, ...more] = w.calls();
    assert.deepEqual(more, [], label);
    assert.deepEqual(call.args, args, `${label}: rustup gets exactly its arguments`);
    assert.equal(call.cwd, w.project);
    assert.deepEqual(
      call.locks.map((l) => l.name).sort(),
      [...names].sort(),
      `${label}: ${JSON.stringify(call.locks)}`,
    );
    for (const l of call.locks) assert.equal(l.state, mode, `${label}: ${l.name}`);
    assert.equal(
      (r.stderr.match(/does not know/g) ?? []).length,
      args[0] === 'frobnicate' ? 1 : 0,
      `${label}: ${r.stderr}`,
    );
  }
});

test('which follows each of rustup’s rules, and says which one chose', async (t) => {
  const w = rustupWorld(t);
  const which = async (dir, env = w.env) => {
    const r = await cli(['which', dir, '--json'], { env });
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    return [j.name, j.source, j.sourceFile];
  };
  const file = path.join(w.project, 'rust-toolchain.toml');
  assert.deepEqual(
    await which(path.join(w.project, 'src')),
    [full('nightly'), 'toolchain-file', file],
    'toml with a table, found walking up',
  );
  fs.writeFileSync(file, 'toolchain.channel = "1.95.0"\n');
  assert.deepEqual(await which(w.project), [full('1.95.0'), 'toolchain-file', file], 'dotted key');
  fs.writeFileSync(file, 'toolchain = { channel = "stable" }\n');
  assert.deepEqual(
    await which(w.project),
    [full('stable'), 'toolchain-file', file],
    'inline table',
  );
  fs.writeFileSync(path.join(w.project, 'rust-toolchain'), 'nightly\n');
  assert.deepEqual(
    await which(w.project),
    [full('nightly'), 'toolchain-file', path.join(w.project, 'rust-toolchain')],
    'legacy file',
  );
  fs.appendFileSync(
    w.settings,
    `\n[overrides]\n${JSON.stringify(w.project)} = "${full('1.95.0')}"\n`,
  );
  assert.deepEqual(await which(w.project), [full('1.95.0'), 'override', w.settings], 'override');
  assert.deepEqual(
    await which(w.project, { ...w.env, RUSTUP_TOOLCHAIN: 'stable' }),
    [full('stable'), 'env', null],
    'RUSTUP_TOOLCHAIN',
  );
  const elsewhere = path.join(w.dir, 'elsewhere');
  fs.mkdirSync(elsewhere);
  assert.deepEqual(await which(elsewhere), [full('stable'), 'default', w.settings], 'default');

  // The JSON is a status entry plus the rule; the text names the same lock.
  const json = JSON.parse((await cli(['which', w.project, '--json'], { env: w.env })).stdout);
  const [entry] = (await statusOf(w.env, full('1.95.0'))).toolchains;
  for (const k of [
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
  ])
    assert.deepEqual(json[k], entry[k], k);
  const text = await cli(['which'], { env: w.env, cwd: w.project });
  assert.equal(text.code, 0, text.stderr);
  assert.ok(text.stdout.startsWith(`${full('1.95.0')}\n`), text.stdout);
  assert.ok(text.stdout.includes(`lock file: ${entry.lockFile}`), text.stdout);

  // Nothing applies: 78. A file that is not TOML: 78 naming it.
  fs.writeFileSync(w.settings, `default_host_triple = "${HOST}"\n`);
  const nothing = await cli(['which', elsewhere], { env: w.env });
  assert.equal(nothing.code, 78);
  assert.match(nothing.stderr, /^toolchain-lock: No rustup toolchain applies in /);
  fs.writeFileSync(file, '[toolchain\n');
  fs.rmSync(path.join(w.project, 'rust-toolchain'));
  const bad = await cli(['which', w.project], { env: w.env });
  assert.equal(bad.code, 78);
  assert.ok(bad.stderr.startsWith(`toolchain-lock: ${file} is not valid TOML (line 1`), bad.stderr);
});

/** A bed (null: skipped) whose dist is served over HTTP; `locksAt(path)` are the locks `status` showed when rustup asked for it. */
async function realWorld(t) {
  const bed = await testbedOrSkip(t);
  if (!bed) return null;
  const lockDir = path.join(bed.root, 'locks');
  const seen = new Map();
  let env;
  const locks = async () =>
    (await statusOf(env)).toolchains
      .filter((s) => s.state !== 'free')
      .map((s) => [s.name, s.state]);
  const served = await bed.serve({ onRequest: async (p) => seen.set(p, await locks()) });
  t.after(() => served.close());
  env = { ...served.env, TOOLCHAIN_LOCK_DIR: lockDir, TOOLCHAIN_LOCK_HELD: '' };
  const manifest = (channel) => `/dist/channel-rust-${channel}.toml.sha256`;
  /** The CLI to completion; a real update or install takes seconds. */
  const run = (args, options = {}) => start(args, { env, ...options }).result(180_000);
  return {
    bed,
    env,
    locks,
    run,
    locksAt: (channel) => seen.get(manifest(channel)),
    asked: (channel) => seen.has(manifest(channel)),
  };
}

test("real rustup: `rustup update stable` holds stable's write lock while rustup downloads, and updates it", async (t) => {
  const w = await realWorld(t);
  if (!w) return;
  w.bed.publish(2);
  const r = await w.run(['rustup', 'update', 'stable']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout + r.stderr, /stable-\S+ updated - rustc /);
  assert.deepEqual(w.locksAt('stable'), [[w.bed.toolchainName('stable'), 'write']]);
  assert.match(w.bed.marker('stable'), /release 2 /);
  assert.deepEqual(await w.locks(), [], 'nothing held afterwards');
  // Read-only commands take no lock and still run the real rustup.
  const show = await w.run(['rustup', 'show', 'active-toolchain']);
  assert.equal(show.code, 0, show.stderr);
  assert.match(show.stdout, new RegExp(`^${w.bed.toolchainName('stable')} \\(default\\)`));
});

test("real rustup: a toolchain not installed yet is installed under a write lock whose key is the same before and after; a failed install exits with rustup's status and holds nothing", async (t) => {
  const w = await realWorld(t);
  if (!w) return;
  const [before] = (await statusOf(w.env, 'beta')).toolchains;
  assert.deepEqual(
    [before.name, before.path],
    [w.bed.toolchainName('beta'), w.bed.toolchainDir('beta')],
  );
  const r = await w.run(['update', 'beta', '--', 'rustup', 'toolchain', 'install', 'beta']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(w.locksAt('beta'), [[w.bed.toolchainName('beta'), 'write']]);
  assert.ok(
    fs.existsSync(path.join(w.bed.toolchainDir('beta'), 'bin', 'rustc')),
    'the real rustup installed it',
  );
  assert.equal((await statusOf(w.env, 'beta')).toolchains[0].key, before.key);

  // The wrapper plans the install of nightly itself; 1.80.0 is not in the dist: rustup fails.
  const nightly = await w.run(['rustup', 'toolchain', 'install', 'nightly']);
  assert.equal(nightly.code, 0, nightly.stderr);
  assert.deepEqual(w.locksAt('nightly'), [[w.bed.toolchainName('nightly'), 'write']]);
  const failing = await w.run(['rustup', 'toolchain', 'install', '1.80.0']);
  assert.equal(failing.code, 1, "rustup's own exit status");
  assert.match(failing.stderr, /1\.80\.0/);
  assert.deepEqual(w.locksAt('1.80.0'), [[w.bed.toolchainName('1.80.0'), 'write']]);
  assert.equal(fs.existsSync(w.bed.toolchainDir('1.80.0')), false);
  assert.deepEqual(await w.locks(), [], 'nothing held afterwards');
  // run of a toolchain that is not installed stays 78; so does a name that is no channel.
  assert.equal((await w.run(['run', '1.81.0', '--', 'true'])).code, 78);
  assert.equal((await w.run(['update', 'stabel', '--', 'true'])).code, 78);
});

test('real rustup: `rustup run stable CMD` and `run -- CMD` in a pinned project hold the read lock of the toolchain rustup runs', async (t) => {
  const w = await realWorld(t);
  if (!w) return;
  const status = [process.execPath, CLI, 'status', '--json'];
  const held = (r) => {
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout)
      .toolchains.filter((s) => s.state !== 'free')
      .map((s) => [s.name, s.state]);
  };
  assert.deepEqual(held(await w.run(['rustup', 'run', 'stable', ...status])), [
    [w.bed.toolchainName('stable'), 'read'],
  ]);
  // Pinned with the real `rustup override set` (a linked toolchain, so no download).
  const project = path.join(w.bed.root, 'project');
  fs.mkdirSync(path.join(project, 'src'), { recursive: true });
  assert.equal(
    (await w.bed.rustup(['toolchain', 'link', 'mine', w.bed.toolchainDir('stable')])).code,
    0,
  );
  assert.equal((await w.bed.rustup(['override', 'set', 'mine'], { cwd: project })).code, 0);
  assert.deepEqual(
    held(await w.run(['run', '--', ...status], { cwd: path.join(project, 'src') })),
    [['mine', 'read']],
  );
  const rustc = await w.run(['run', '--', 'rustc', '--version'], { cwd: project });
  assert.equal(rustc.code, 0, rustc.stderr);
  assert.match(rustc.stdout, new RegExp(`^rustc ${w.bed.version.replaceAll('.', '\\.')} `));
  // A pinned toolchain that is not installed: 78, and nothing ran.
  fs.writeFileSync(path.join(project, 'rust-toolchain.toml'), '[toolchain]\nchannel = "1.80.0"\n');
  assert.equal((await w.bed.rustup(['override', 'unset'], { cwd: project })).code, 0);
  const missing = await w.run(['run', '--', ...status], { cwd: project });
  assert.equal(missing.code, 78);
  assert.match(
    missing.stderr,
    new RegExp(`${w.bed.toolchainName('1.80.0')}, which is not installed`),
  );
  assert.equal(missing.stdout, '', 'nothing ran');
});

test('real rustup: update of a linked toolchain without CMD is refused with 64; with CMD it runs under its write lock', async (t) => {
  const w = await realWorld(t);
  if (!w) return;
  assert.equal(
    (await w.bed.rustup(['toolchain', 'link', 'mine', w.bed.toolchainDir('stable')])).code,
    0,
  );
  const r = await w.run(['update', 'mine']);
  assert.equal(r.code, 64);
  assert.match(
    r.stderr,
    /^toolchain-lock: mine is a linked toolchain: rustup cannot update it; give the command after `--`/,
  );
  const withCmd = await w.run(['update', 'mine', '--', process.execPath, CLI, 'status', '--json']);
  assert.equal(withCmd.code, 0, withCmd.stderr);
  assert.deepEqual(
    JSON.parse(withCmd.stdout)
      .toolchains.filter((s) => s.state !== 'free')
      .map((s) => [s.name, s.state]),
    [['mine', 'write']],
  );
});

test('a configured toolchain standing for a linked one keeps it linked: no `rustup update` of it from the CLI', async (t) => {
  const w = rustupWorld(t);
  const env = {
    ...w.env,
    TOOLCHAIN_LOCK_TOOLCHAINS: JSON.stringify([
      { name: 'cfg', rustup: 'mine' },
      { name: 'cfg-own', rustup: 'mine', updateCommand: ['rustup', 'show'] },
    ]),
  };
  const r = await cli(['update', 'cfg'], { env });
  assert.equal(r.code, 64, r.stderr);
  assert.match(
    r.stderr,
    /^toolchain-lock: cfg is a linked toolchain: rustup cannot update it; give the command after `--`/,
  );
  assert.deepEqual(w.calls(), [], 'rustup was not run');
  // Control: its own configured updateCommand still runs.
  const own = await cli(['update', 'cfg-own'], { env });
  assert.equal(own.code, 0, own.stderr);
  assert.deepEqual(
    w.calls().map((c) => c.args),
    [['show']],
  );
});

test('which and rustup have help, and are in the main help', async () => {
  const main = await cli(['--help']);
  for (const usage of [
    'which [+TOOLCHAIN] [DIR] [--json]',
    'rustup [--unlocked wait|proceed|fail] [--unlocked-timeout SECONDS] ARG ...',
    'run [TOOLCHAIN] [--purpose TEXT] -- CMD [ARG ...]',
  ])
    assert.ok(main.stdout.includes(`toolchain-lock ${usage}`), usage);
  for (const command of ['which', 'rustup']) {
    const r = await cli(['help', command]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, new RegExp(`^Usage: toolchain-lock ${command} `));
  }
  assert.equal((await cli(['which', '--help'])).stdout, (await cli(['help', 'which'])).stdout);
});
