// rustup#988 through the shims, with the machine's real rustup on the test bed
// (test/fixtures/rustup-testbed.mjs): plain `rustup update stable` while plain `rustc --version`
// and `cargo build` loop, concurrent plain installs and updates of one toolchain, and a proxy's
// auto-install under the write lock. The control (the same loop without shims, failures counted)
// is a benchmark row: `npm run bench` (bench/shims.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cli, startProcess, statusOf } from '../fixtures/cli-harness.mjs';
import { testbedOrSkip } from '../fixtures/rustup-testbed.mjs';

/** The bed with the shims first on PATH and a private lock directory. */
async function shimBed(t, options) {
  const bed = await testbedOrSkip(t, options);
  if (!bed) return null;
  const shimDir = path.join(bed.root, 'shims');
  const env = {
    ...bed.env,
    TOOLCHAIN_LOCK_DIR: path.join(bed.root, 'locks'),
    TOOLCHAIN_LOCK_HELD: '',
  };
  const r = await cli(['shims', 'install', '--dir', shimDir], { env });
  assert.equal(r.code, 0, r.stderr);
  env.PATH = `${shimDir}${path.delimiter}${env.PATH}`;
  const run = (argv, opts = {}) =>
    startProcess(argv, { env: { ...env, ...opts.env }, cwd: opts.cwd ?? bed.root }).result(600_000);
  return { bed, env, shimDir, run };
}

function crate(dir) {
  fs.mkdirSync(path.join(dir, 'src'), { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'Cargo.toml'),
    '[package]\nname = "loop"\nversion = "0.1.0"\nedition = "2021"\n',
  );
  fs.writeFileSync(
    path.join(dir, 'build.rs'),
    'fn main() { println!("cargo:rerun-if-changed=build.rs"); }\n',
  );
  fs.writeFileSync(
    path.join(dir, 'src', 'main.rs'),
    'fn main() { println!("{}", std::env::args().count()); }\n',
  );
  return dir;
}

/** The toolchain is whole: every component rustup installed is listed, and a crate builds with it. */
async function assertIntact(s, name, dir) {
  const components = fs
    .readFileSync(path.join(s.bed.toolchainDir(name), 'lib', 'rustlib', 'components'), 'utf8')
    .trim()
    .split('\n')
    .sort();
  assert.deepEqual(
    components,
    ['cargo', 'rust-std', 'rustc'].map((c) => `${c}-${s.bed.host}`),
    `${name} components`,
  );
  const built = await s.run(['cargo', `+${name}`, 'build', '-q'], {
    cwd: dir,
    env: { CARGO_TARGET_DIR: path.join(s.bed.root, `target-${name}`) },
  });
  assert.equal(built.code, 0, `cargo +${name} build: ${built.stderr}`);
}

async function assertNoLockHeld(env) {
  assert.deepEqual(
    (await statusOf(env)).toolchains
      .filter((st) => st.state !== 'free')
      .map((st) => `${st.name} ${st.state}`),
    [],
  );
}

/** Runs `argv` again and again until `done()`; resolves with every call's outcome. */
async function loop(s, argv, opts, done) {
  const calls = [];
  while (!done()) {
    const started = Date.now();
    if (opts.touch) fs.utimesSync(opts.touch, new Date(), new Date());
    const r = await s.run(argv, opts);
    calls.push({
      code: r.code,
      signal: r.signal,
      stderr: r.stderr,
      waited: /waiting for the read lock/.test(r.stderr),
      ms: Date.now() - started,
    });
  }
  return calls;
}

test(
  'rustup#988: a plain `rustup update stable` while plain `rustc --version` and `cargo build` loop: 0 failed calls',
  { timeout: 900_000 },
  async (t) => {
    const s = await shimBed(t, { releases: 3 });
    if (!s) return;
    const dir = crate(path.join(s.bed.root, 'crate'));
    const buildOpts = { cwd: dir, touch: path.join(dir, 'src', 'main.rs') };
    for (const i of [0, 1]) {
      const warm = await s.run(['cargo', 'build', '-q'], {
        ...buildOpts,
        env: { CARGO_TARGET_DIR: path.join(s.bed.root, `target-${i}`) },
      });
      assert.equal(warm.code, 0, warm.stderr);
    }
    const all = { rustc: [], cargo: [] };
    for (const release of [2, 3]) {
      s.bed.publish(release);
      let updating = true;
      // Several loops each, started apart: calls begin before the update, while it waits for them,
      // and while it rewrites the toolchain.
      const stagger = (i, argv, opts) =>
        new Promise((r) => setTimeout(r, i * 700)).then(() => loop(s, argv, opts, () => !updating));
      const rustcLoops = [0, 1, 2].map((i) => stagger(i, ['rustc', '--version'], {}));
      const cargoLoops = [0, 1].map((i) =>
        stagger(i, ['cargo', 'build', '-q'], {
          ...buildOpts,
          env: { CARGO_TARGET_DIR: path.join(s.bed.root, `target-${i}`) },
        }),
      );
      const update = await s.run(['rustup', 'update', 'stable']);
      updating = false;
      const rustc = (await Promise.all(rustcLoops)).flat();
      const cargo = (await Promise.all(cargoLoops)).flat();
      assert.equal(update.code, 0, update.stderr);
      assert.match(update.stdout + update.stderr, /stable-.* updated/);
      assert.match(s.bed.marker('stable'), new RegExp(`release ${release} `));
      all.rustc.push(...rustc);
      all.cargo.push(...cargo);
    }
    const failed = (calls) => calls.filter((c) => c.code !== 0);
    t.diagnostic(
      `through the shims: rustc --version ${all.rustc.length} calls, ${failed(all.rustc).length} failed, ${all.rustc.filter((c) => c.waited).length} waited for the update; cargo build ${all.cargo.length} calls, ${failed(all.cargo).length} failed, ${all.cargo.filter((c) => c.waited).length} waited`,
    );
    assert.deepEqual(
      failed(all.rustc).map((c) => c.stderr),
      [],
    );
    assert.deepEqual(
      failed(all.cargo).map((c) => c.stderr),
      [],
    );
    // The loops really ran beside the updates: some calls had to wait for one.
    assert.ok(
      [...all.rustc, ...all.cargo].some((c) => c.waited),
      'no call overlapped an update',
    );
    await assertIntact(s, 'stable', dir);
    await assertNoLockHeld(s.env);
  },
);

test(
  'rustup#988: two plain `rustup toolchain install` 0–1 s apart, then two plain updates: all exit 0, the toolchain stays whole',
  { timeout: 900_000 },
  async (t) => {
    const s = await shimBed(t, { releases: 2 });
    if (!s) return;
    const dir = crate(path.join(s.bed.root, 'crate'));
    const apart = (ms) => new Promise((r) => setTimeout(r, ms));
    const first = s.run(['rustup', 'toolchain', 'install', 'nightly']);
    await apart(Math.floor(Math.random() * 1000));
    const second = s.run(['rustup', 'toolchain', 'install', 'nightly']);
    for (const r of await Promise.all([first, second])) assert.equal(r.code, 0, r.stderr);
    await assertIntact(s, 'nightly', dir);

    s.bed.publish(2);
    const u1 = s.run(['rustup', 'update', 'nightly']);
    await apart(Math.floor(Math.random() * 1000));
    const u2 = s.run(['rustup', 'update', 'nightly']);
    const updates = await Promise.all([u1, u2]);
    for (const r of updates) assert.equal(r.code, 0, r.stderr);
    // One of them updated; the other waited for it and found nothing left to do.
    assert.equal(
      updates.filter((r) => /nightly-.* updated/.test(r.stdout + r.stderr)).length,
      1,
      updates.map((r) => r.stdout + r.stderr).join('\n---\n'),
    );
    assert.match(s.bed.marker('nightly'), /release 2 /);
    await assertIntact(s, 'nightly', dir);
    await assertNoLockHeld(s.env);
  },
);

test(
  'a proxy call for a toolchain that is not installed: rustup installs it, under its write lock, and the call goes on',
  { timeout: 900_000 },
  async (t) => {
    const s = await shimBed(t, { releases: 1 });
    if (!s) return;
    const nightly = s.bed.toolchainDir('nightly');
    let sawWrite = false;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const st = (await statusOf(s.env)).toolchains.find((x) => x.path === nightly);
        if (st?.state === 'write') sawWrite = true;
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const r = await s.run(['cargo', '+nightly', '--version']);
    watching = false;
    await watcher;
    assert.equal(r.code, 0, r.stderr);
    // stdout is cargo's alone; rustup's install talks on stderr, as its own auto-install does.
    assert.match(r.stdout, /^cargo 1\.\d+\.\d+ [^\n]*\n$/);
    assert.match(
      r.stderr,
      /syncing channel updates for 'nightly-|syncing channel updates for nightly-/,
    );
    assert.ok(sawWrite, `the install held nightly's write lock; stderr: ${r.stderr}`);
    assert.ok(fs.existsSync(path.join(nightly, 'lib', 'rustlib', 'components')));
    // RUSTUP_AUTO_INSTALL=0 keeps rustup's refusal, and nothing is installed or locked.
    const refused = await s.run(['rustc', '+beta', '--version'], {
      env: { RUSTUP_AUTO_INSTALL: '0' },
    });
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /beta.* is not installed/);
    assert.equal(fs.existsSync(s.bed.toolchainDir('beta')), false);
    await assertNoLockHeld(s.env);
  },
);
