// `toolchain-lock which` against the real rustup on the test bed (test/fixtures/rustup-testbed.mjs):
// for every pin source (+toolchain, RUSTUP_TOOLCHAIN, `rustup override set`, rust-toolchain,
// rust-toolchain.toml, the default) and for the files rustup refuses, `which --json` names the
// toolchain `rustup show active-toolchain` names, for the same reason, or fails where rustup fails.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CLI } from '../fixtures/cli-harness.mjs';
import { run } from '../fixtures/rustup-testbed-cache.mjs';
import { rustupSource, rustupTestbed } from '../fixtures/rustup-testbed.mjs';

let bed = null;
before(async () => {
  if (rustupSource() === null) return;
  bed = await rustupTestbed();
  // stable is installed and the default; nightly and beta are real installs, `mine` a real link.
  await bed.install('nightly');
  await bed.install('beta');
  const link = await bed.rustup(['toolchain', 'link', 'mine', bed.toolchainDir('beta')]);
  assert.equal(link.code, 0, link.stderr);
});
after(() => bed?.cleanup());

function skipWithoutRustup(t) {
  if (bed) return false;
  console.log('skipped: no rustup');
  t.skip('no rustup');
  return true;
}

/** A project directory under the bed with `files` ({ name: content }) in it. */
function project(name, files = {}) {
  const dir = path.join(bed.root, 'projects', name);
  fs.mkdirSync(dir, { recursive: true });
  for (const [f, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.writeFileSync(path.join(dir, f), content);
  }
  return dir;
}

const REASONS = [
  [/^\(default\)$/, 'default'],
  [/^\(overridden by environment variable RUSTUP_TOOLCHAIN\)$/, 'env'],
  [/^\(directory override for '.*'\)$/, 'override'],
  [/^\(overridden by '(.*)'\)$/, 'toolchain-file'],
  [/^\(overridden by \+toolchain on the command line\)$/, 'command-line'],
];

/** rustup's and our answer in `cwd` (with `plus` as `+TOOLCHAIN`); asserts they agree. */
async function agree(cwd, { env = {}, plus } = {}) {
  // Auto-install off: `show active-toolchain` must report, never install.
  const e = {
    ...bed.env,
    RUSTUP_AUTO_INSTALL: '0',
    RUST_BACKTRACE: '0',
    TOOLCHAIN_LOCK_DIR: path.join(bed.root, 'locks'),
    ...env,
  };
  const rustup = await run(
    path.join(bed.bin, 'rustup'),
    [...(plus ? [`+${plus}`] : []), 'show', 'active-toolchain'],
    { cwd, env: e },
  );
  const ours = await run(
    process.execPath,
    [CLI, 'which', ...(plus ? [`+${plus}`] : []), '--json'],
    { cwd, env: e },
  );
  const where = `in ${cwd} with ${JSON.stringify(env)}${plus ? ` +${plus}` : ''}:\nrustup: ${rustup.stdout}${rustup.stderr}\nours: ${ours.stdout}${ours.stderr}`;
  // A pinned name that is not installed: rustup says so (auto-install is off); which says installed: false.
  const missing =
    /error: (?:override|custom) toolchain '([^']+)' (?:specified in override file '[^']*' )?is not installed/.exec(
      rustup.stderr,
    );
  if (rustup.code !== 0 && !missing) {
    assert.notEqual(ours.code, 0, `rustup refuses; which must too ${where}`);
    return { rustup, ours };
  }
  assert.equal(ours.code, 0, where);
  const which = JSON.parse(ours.stdout);
  if (missing) {
    assert.equal(which.name, missing[1], where);
    assert.equal(which.installed, false, where);
    return { rustup, ours, which };
  }
  const line = rustup.stdout.trim().split('\n').at(-1);
  const [, name, reason] = /^(\S+) (\(.*\))$/.exec(line) ?? [];
  assert.ok(name, `rustup said ${line}`);
  const rule = REASONS.find(([re]) => re.test(reason));
  assert.ok(rule, `unknown reason ${reason}`);
  assert.equal(which.source, rule[1], where);
  if (rule[1] === 'toolchain-file') assert.equal(which.sourceFile, rule[0].exec(reason)[1], where);
  // A path toolchain is named by its path; any other by its directory under toolchains/.
  const dir = path.isAbsolute(name) ? name : path.join(bed.rustupHome, 'toolchains', name);
  assert.equal(fs.realpathSync(which.path), fs.realpathSync(dir), where);
  if (!path.isAbsolute(name)) assert.equal(which.name, name, where);
  assert.equal(which.installed, true, where);
  return { rustup, ours, which };
}

test('the default toolchain, in a directory without pins', async (t) => {
  if (skipWithoutRustup(t)) return;
  const { which } = await agree(project('plain'));
  assert.equal(which.name, `stable-${bed.host}`);
});

test('RUSTUP_TOOLCHAIN: a channel, a full name, a linked name, a path; empty means unset; it beats files and overrides', async (t) => {
  if (skipWithoutRustup(t)) return;
  const dir = project('env', { 'rust-toolchain': 'beta\n' });
  for (const value of ['nightly', `beta-${bed.host}`, 'mine', bed.toolchainDir('nightly'), ''])
    await agree(dir, { env: { RUSTUP_TOOLCHAIN: value } });
  await agree(project('env-plain'), { env: { RUSTUP_TOOLCHAIN: '' } });
});

test('+toolchain beats RUSTUP_TOOLCHAIN, overrides and files', async (t) => {
  if (skipWithoutRustup(t)) return;
  const dir = project('plus', { 'rust-toolchain.toml': '[toolchain]\nchannel = "beta"\n' });
  const { which } = await agree(dir, { plus: 'nightly', env: { RUSTUP_TOOLCHAIN: 'stable' } });
  assert.equal(which.name, `nightly-${bed.host}`);
  await agree(dir, { plus: 'mine' });
  await agree(dir, { plus: `beta-${bed.host}` });
});

test('a `rustup override set` directory and its subdirectories; nearer toolchain files win, files beside it lose', async (t) => {
  if (skipWithoutRustup(t)) return;
  const dir = project('override', {
    'rust-toolchain': 'nightly\n',
    'sub/deeper/.keep': '',
    'pinned/rust-toolchain.toml': '[toolchain]\nchannel = "stable"\n',
  });
  const set = await bed.rustup(['override', 'set', 'beta'], { cwd: dir });
  assert.equal(set.code, 0, set.stderr);
  assert.equal((await agree(dir)).which.name, `beta-${bed.host}`);
  await agree(path.join(dir, 'sub', 'deeper'));
  assert.equal((await agree(path.join(dir, 'pinned'))).which.source, 'toolchain-file');
  const link = await bed.rustup(['override', 'set', 'mine'], { cwd: path.join(dir, 'sub') });
  assert.equal(link.code, 0, link.stderr);
  await agree(path.join(dir, 'sub', 'deeper'));
});

test('rust-toolchain: a bare name (spaces, CRLF, full name, path) or TOML; beside rust-toolchain.toml it wins', async (t) => {
  if (skipWithoutRustup(t)) return;
  const cases = {
    bare: 'nightly\n',
    spaces: '  beta  \n',
    crlf: 'beta\r\n',
    full: `beta-${bed.host}\n`,
    path: `${bed.toolchainDir('nightly')}\n`,
    toml: '[toolchain]\nchannel = "beta"\n',
    dotted: 'toolchain.channel = "beta"\n',
    uninstalled: '1.80.0\n',
  };
  for (const [name, content] of Object.entries(cases))
    await agree(project(`legacy-${name}`, { 'rust-toolchain': content }));
  await agree(
    project('subdir-of-pinned', { 'rust-toolchain': 'nightly\n', 'src/.keep': '' }) + '/src',
  );
  const both = await agree(
    project('both', {
      'rust-toolchain': 'nightly\n',
      'rust-toolchain.toml': '[toolchain]\nchannel = "beta"\n',
    }),
  );
  assert.equal(both.which.name, `nightly-${bed.host}`);
});

test('rust-toolchain.toml: a channel, a full or partial name, components only, a path', async (t) => {
  if (skipWithoutRustup(t)) return;
  const cases = {
    channel: '[toolchain]\nchannel = "beta"\n',
    full: `[toolchain]\nchannel = "nightly-${bed.host}"\n`,
    partial: '[toolchain]\nchannel = "1.95"\n',
    components: '[toolchain]\ncomponents = ["rustfmt"]\n',
    path: `[toolchain]\npath = "${bed.toolchainDir('beta')}"\n`,
    unknownKey: '[toolchain]\nchannel = "beta"\nfoo = 1\n',
    inline: 'toolchain = { channel = "nightly" }\n',
  };
  for (const [name, content] of Object.entries(cases))
    await agree(project(`toml-${name}`, { 'rust-toolchain.toml': content }));
});

test('files rustup refuses are refused: empty, no [toolchain], no properties, channel and path, a relative path, a path without bin/', async (t) => {
  if (skipWithoutRustup(t)) return;
  const cases = {
    'rust-toolchain': ['', '\n', '   \n', 'nightly\n\n'],
    'rust-toolchain.toml': [
      '',
      '# nothing\n',
      '[other]\nx = 1\n',
      '[toolchain]\n',
      '[toolchain]\nprofile = "minimal"\n',
      '[toolchain]\nchannel = "beta"\npath = "/tmp"\n',
      '[toolchain]\npath = "../beta"\n',
      `[toolchain]\npath = "${path.join(bed.root, 'no-such-toolchain')}"\n`,
    ],
  };
  let i = 0;
  for (const [file, contents] of Object.entries(cases)) {
    for (const content of contents) {
      const { rustup } = await agree(project(`refused-${i++}`, { [file]: content }));
      assert.notEqual(rustup.code, 0, `rustup accepts ${file} ${JSON.stringify(content)}`);
    }
  }
});

test('RUSTUP_TOOLCHAIN that rustup refuses (a relative path, a path without bin/) is refused', async (t) => {
  if (skipWithoutRustup(t)) return;
  const dir = project('env-refused');
  for (const value of ['../beta', path.join(bed.root, 'no-such-toolchain')]) {
    const { rustup } = await agree(dir, { env: { RUSTUP_TOOLCHAIN: value } });
    assert.notEqual(rustup.code, 0);
  }
});

test('no default toolchain and no pin: both say none applies', async (t) => {
  if (skipWithoutRustup(t)) return;
  const unset = await bed.rustup(['default', 'none']);
  assert.equal(unset.code, 0, unset.stderr);
  t.after(() => bed.rustup(['default', 'stable']));
  const { ours } = await agree(project('no-default'));
  assert.equal(ours.code, 78);
});
