// The real-rustup test bed (test/fixtures/rustup-testbed.mjs) does what the tests built on it rely
// on: the machine's real rustup installs stable from the local dist, the toolchain builds a crate,
// a published second release makes a real `rustup update stable` rewrite the toolchain in place,
// a bed never touches ~/.rustup or ~/.cargo, and without rustup the tests skip instead of passing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { rustupSource, testbedOrSkip } from '../fixtures/rustup-testbed.mjs';

/**
 * Names, sizes, mtimes and inodes of what rustup keeps in the user's homes: ~/.cargo/bin (rustup and
 * its proxies), ~/.rustup's settings, update hashes, toolchain directories and their rustlib
 * metadata. Not ~/.cargo's registry or ~/.rustup/tmp, which a cargo or rustup of the user's own
 * may touch on this shared machine while the test runs.
 */
function homeSnapshot() {
  const src = rustupSource();
  if (src === null) return null;
  const lines = [];
  const list = (dir, depth, skip = []) => {
    if (!fs.existsSync(dir)) return;
    for (const name of fs.readdirSync(dir).sort()) {
      if (skip.includes(name)) continue;
      const p = path.join(dir, name);
      const st = fs.lstatSync(p);
      lines.push(`${p} ${st.size} ${st.mtimeMs} ${st.ino}`);
      if (st.isDirectory() && depth > 0) list(p, depth - 1);
    }
  };
  list(src.rustupHome, 0, ['tmp', 'downloads']);
  for (const d of ['toolchains', 'update-hashes']) list(path.join(src.rustupHome, d), 1);
  list(path.join(src.cargoHome, 'bin'), 0);
  for (const tc of fs.readdirSync(path.join(src.rustupHome, 'toolchains')))
    list(path.join(src.rustupHome, 'toolchains', tc, 'lib', 'rustlib'), 0);
  return lines.join('\n');
}

const before = homeSnapshot();

/** A crate with a build script (so cargo runs rustc for build scripts and for the crate), built in `dir`. */
function tinyCrate(dir) {
  fs.mkdirSync(path.join(dir, 'src'), { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'Cargo.toml'),
    '[package]\nname = "tiny"\nversion = "0.1.0"\nedition = "2021"\n',
  );
  fs.writeFileSync(
    path.join(dir, 'build.rs'),
    'fn main() { println!("cargo:rustc-env=TINY=built"); }\n',
  );
  fs.writeFileSync(
    path.join(dir, 'src', 'main.rs'),
    'fn main() { println!("tiny {}", env!("TINY")); }\n',
  );
  return dir;
}

test('the real rustup installs stable from the local dist; rustc and cargo build work', async (t) => {
  const bed = await testbedOrSkip(t, { installed: false });
  if (!bed) return;
  assert.equal(
    fs.existsSync(bed.toolchainDir('stable')),
    false,
    'an empty RUSTUP_HOME to start with',
  );
  const install = await bed.rustup(['toolchain', 'install', 'stable']);
  assert.equal(install.code, 0, install.stderr);
  assert.match(
    install.stdout + install.stderr,
    new RegExp(`stable-${bed.host} installed - rustc ${bed.version.replaceAll('.', '\\.')}`),
  );
  const set = await bed.rustup(['default', 'stable']);
  assert.equal(set.code, 0, set.stderr);
  const components = fs
    .readFileSync(path.join(bed.toolchainDir('stable'), 'lib', 'rustlib', 'components'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .sort();
  assert.deepEqual(
    components,
    ['cargo', 'rust-std', 'rustc'].map((c) => `${c}-${bed.host}`),
  );
  assert.match(bed.marker('stable'), /release 1 /);

  const version = await bed.exec('rustc', ['--version']);
  assert.equal(version.code, 0, version.stderr);
  assert.match(version.stdout, new RegExp(`^rustc ${bed.version.replaceAll('.', '\\.')} `));
  const crate = tinyCrate(path.join(bed.root, 'tiny'));
  const build = await bed.exec('cargo', ['build', '--quiet'], { cwd: crate });
  assert.equal(build.code, 0, build.stderr);
  assert.equal(
    spawnSync(path.join(crate, 'target', 'debug', 'tiny'), { encoding: 'utf8' }).stdout,
    'tiny built\n',
  );
  const which = await bed.rustup(['which', 'rustc']);
  assert.equal(which.stdout.trim(), path.join(bed.toolchainDir('stable'), 'bin', 'rustc'));
});

test('after release 2 is published, a real `rustup update stable` rewrites the toolchain in place', async (t) => {
  const bed = await testbedOrSkip(t);
  if (!bed) return;
  const rustc = path.join(bed.toolchainDir('stable'), 'bin', 'rustc');
  const oldIno = fs.statSync(rustc).ino;
  assert.match(bed.marker('stable'), /release 1 /, 'the cloned bed starts at release 1');
  const same = await bed.rustup(['update', 'stable']);
  assert.equal(same.code, 0, same.stderr);
  assert.match(same.stdout + same.stderr, /stable-\S+ unchanged/, 'release 1 again is no update');
  assert.equal(fs.statSync(rustc).ino, oldIno);

  bed.publish(2);
  const update = await bed.rustup(['update', 'stable']);
  assert.equal(update.code, 0, update.stderr);
  const said = update.stdout + update.stderr;
  assert.match(said, /removing previous version of component rustc\n/);
  assert.match(said, /stable-\S+ updated - rustc /);
  assert.notEqual(fs.statSync(rustc).ino, oldIno, 'bin/rustc is a new file');
  assert.match(bed.marker('stable'), /release 2 /);
  assert.match(
    fs.readFileSync(
      path.join(bed.toolchainDir('stable'), 'lib', 'rustlib', 'multirust-channel-manifest.toml'),
      'utf8',
    ),
    /date = "2026-02-01"/,
  );
  assert.deepEqual(
    fs.readdirSync(path.join(bed.rustupHome, 'tmp')),
    [],
    'rustup emptied its tmp (where the old files went)',
  );

  const version = await bed.exec('rustc', ['--version']);
  assert.equal(version.code, 0, version.stderr);
  const build = await bed.exec('cargo', ['build', '--quiet'], {
    cwd: tinyCrate(path.join(bed.root, 'tiny')),
  });
  assert.equal(build.code, 0, build.stderr);
});

test('a bed is private: its environment points into its own directory, not ~/.rustup or ~/.cargo', async (t) => {
  const bed = await testbedOrSkip(t);
  if (!bed) return;
  const src = rustupSource();
  for (const key of ['RUSTUP_HOME', 'CARGO_HOME', 'RUSTUP_DIST_SERVER', 'RUSTUP_UPDATE_ROOT']) {
    assert.ok(bed.env[key].includes(bed.root), `${key}=${bed.env[key]} lies in the bed`);
  }
  const pathEntries = bed.env.PATH.split(path.delimiter);
  assert.equal(pathEntries[0], bed.bin);
  assert.ok(
    !pathEntries.some(
      (p) =>
        fs.existsSync(p) && fs.realpathSync(p) === fs.realpathSync(path.join(src.cargoHome, 'bin')),
    ),
    'the real ~/.cargo/bin is off PATH',
  );
  const settings = await bed.rustup(['set', 'auto-self-update', 'disable']);
  assert.equal(settings.code, 0, settings.stderr);
  assert.match(
    fs.readFileSync(path.join(bed.rustupHome, 'settings.toml'), 'utf8'),
    /auto_self_update = "disable"/,
  );
  const ino = fs.statSync(path.join(bed.bin, 'rustup')).ino;
  assert.notEqual(ino, fs.statSync(src.rustup).ino, 'rustup is a copy');
  for (const proxy of src.proxies)
    assert.equal(
      fs.statSync(path.join(bed.bin, proxy)).ino,
      ino,
      `${proxy} is a hard link to the bed's rustup`,
    );
});

test('~/.rustup and ~/.cargo are unchanged after the beds above', (t) => {
  if (before === null) {
    console.log('skipped: no rustup');
    t.skip('no rustup');
    return;
  }
  assert.equal(homeSnapshot(), before);
});

test('without rustup, a test on the bed is reported skipped with "skipped: no rustup", never passed', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-no-rustup-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'needs-rustup.test.mjs');
  const fixture = new URL('../fixtures/rustup-testbed.mjs', import.meta.url).href;
  fs.writeFileSync(
    file,
    `import { test } from 'node:test';\nimport { testbedOrSkip } from ${JSON.stringify(fixture)};\ntest('needs rustup', async (t) => {\n  const bed = await testbedOrSkip(t);\n  if (!bed) return;\n  throw new Error('ran without rustup');\n});\n`,
  );
  const env = {
    ...process.env,
    TOOLCHAIN_LOCK_TESTBED_RUSTUP_HOME: path.join(dir, 'no-rustup'),
    TOOLCHAIN_LOCK_TESTBED_CARGO_HOME: path.join(dir, 'no-cargo'),
  };
  // Without NODE_TEST_CONTEXT the child reports in TAP on its stdout instead of to this runner.
  delete env.NODE_TEST_CONTEXT;
  const r = spawnSync(process.execPath, ['--test', '--test-reporter=tap', file], {
    encoding: 'utf8',
    env,
  });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /skipped: no rustup/);
  assert.match(r.stdout, /# SKIP no rustup/);
  assert.match(r.stdout, /# pass 0/);
  assert.match(r.stdout, /# skipped 1/);
});
