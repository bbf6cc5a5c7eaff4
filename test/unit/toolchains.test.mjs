// src/toolchains against a temporary RUSTUP_HOME laid out like rustup's. The module is bundled
// with esbuild's API into a temp dir (it imports nothing native), then imported.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
let tmp;
let tc;

before(async () => {
  tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'tl-toolchains-')));
  const outfile = path.join(tmp, 'toolchains.mjs');
  await esbuild.build({
    entryPoints: [path.join(root, 'src/toolchains/index.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    logLevel: 'warning',
  });
  tc = await import(pathToFileURL(outfile).href);
});

after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const HOST = 'x86_64-unknown-linux-gnu';
const OTHER = 'aarch64-unknown-linux-gnu';

/** A RUSTUP_HOME with toolchains/<name>/bin/rustc and a settings.toml. */
function rustupHomeWith(names, settings = `version = "12"\ndefault_host_triple = "${HOST}"\n`) {
  const home = fs.mkdtempSync(path.join(tmp, 'rustup-'));
  for (const n of names) {
    fs.mkdirSync(path.join(home, 'toolchains', n, 'bin'), { recursive: true });
    fs.writeFileSync(path.join(home, 'toolchains', n, 'bin', 'rustc'), '#!/bin/sh\n', {
      mode: 0o755,
    });
  }
  fs.mkdirSync(path.join(home, 'toolchains'), { recursive: true });
  if (settings !== null) fs.writeFileSync(path.join(home, 'settings.toml'), settings);
  return { home, env: { RUSTUP_HOME: home, HOME: tmp } };
}

const INSTALLED = [
  `stable-${HOST}`,
  `stable-${OTHER}`,
  `nightly-${HOST}`,
  `nightly-2026-01-01-${HOST}`,
  `1.95.0-${HOST}`,
];

test('rustupHome is RUSTUP_HOME, else ~/.rustup', () => {
  assert.equal(tc.rustupHome({ RUSTUP_HOME: '/opt/rustup' }), '/opt/rustup');
  assert.equal(tc.rustupHome({ HOME: '/home/someone' }), '/home/someone/.rustup');
});

test('listRustupToolchains lists toolchain directories (and links), not files', () => {
  const { home, env } = rustupHomeWith(INSTALLED);
  fs.writeFileSync(path.join(home, 'toolchains', 'stray-file'), '');
  const custom = fs.mkdtempSync(path.join(tmp, 'custom-'));
  fs.symlinkSync(custom, path.join(home, 'toolchains', 'mine'));
  const list = tc.listRustupToolchains(env);
  assert.deepEqual(
    list.map((t) => t.name),
    [...INSTALLED, 'mine'].sort(),
  );
  const stable = list.find((t) => t.name === `stable-${HOST}`);
  assert.deepEqual(stable, {
    name: `stable-${HOST}`,
    path: path.join(home, 'toolchains', `stable-${HOST}`),
    kind: 'rustup',
    rustupName: `stable-${HOST}`,
    updateCommand: ['rustup', 'update', `stable-${HOST}`],
  });
  assert.equal(
    list.find((t) => t.name === 'mine').path,
    path.join(fs.realpathSync(home), 'toolchains', 'mine'),
    'a linked toolchain is its link: re-linking keeps its lock',
  );
  assert.deepEqual(tc.listRustupToolchains({ RUSTUP_HOME: path.join(tmp, 'nowhere') }), []);
});

test('rustup names resolve as rustup spells them, preferring the host triple', () => {
  const { env } = rustupHomeWith(INSTALLED);
  const name = (spec) => tc.resolveToolchain(spec, { env }).name;
  assert.equal(name('stable'), `stable-${HOST}`);
  assert.equal(name(`stable-${OTHER}`), `stable-${OTHER}`);
  assert.equal(name('nightly'), `nightly-${HOST}`, 'a bare nightly never matches a dated one');
  assert.equal(name('nightly-2026-01-01'), `nightly-2026-01-01-${HOST}`);
  assert.equal(name('1.95.0'), `1.95.0-${HOST}`);
  assert.equal(tc.resolveToolchain('stable', { env }).kind, 'rustup');
  assert.throws(() => tc.resolveToolchain('1.95', { env }), { code: 'E_UNKNOWN_TOOLCHAIN' });
  assert.throws(() => tc.resolveToolchain('beta', { env }), { code: 'E_UNKNOWN_TOOLCHAIN' });
});

test('the host triple is default_host_triple (or default_host), else the platform’s', () => {
  const { env } = rustupHomeWith(INSTALLED, `default_host = "${OTHER}"\n`);
  assert.equal(tc.resolveToolchain('stable', { env }).name, `stable-${OTHER}`);
  const platform = `${{ x64: 'x86_64', arm64: 'aarch64' }[process.arch]}-${{ linux: 'unknown-linux-gnu', darwin: 'apple-darwin', win32: 'pc-windows-msvc' }[process.platform]}`;
  const bare = rustupHomeWith([`stable-${platform}`, 'stable-riscv64gc-unknown-linux-gnu'], null);
  assert.equal(tc.hostTriple(bare.env), platform);
  assert.equal(tc.resolveToolchain('stable', { env: bare.env }).name, `stable-${platform}`);
});

test('several triples and none for the host is an error naming them', () => {
  const { env } = rustupHomeWith([`beta-${OTHER}`, 'beta-riscv64gc-unknown-linux-gnu']);
  assert.throws(
    () => tc.resolveToolchain('beta', { env }),
    (err) => {
      assert.equal(err.code, 'E_UNKNOWN_TOOLCHAIN');
      assert.match(err.message, /matches several/);
      assert.match(err.message, new RegExp(`beta-${OTHER}`));
      return true;
    },
  );
});

test('paths resolve to the canonical directory, a symlink to itself (A/B flips); a missing one is an error', () => {
  const { home, env } = rustupHomeWith(INSTALLED);
  const work = fs.mkdtempSync(path.join(tmp, 'work-'));
  fs.mkdirSync(path.join(work, 'my-toolchain'));
  fs.symlinkSync(path.join(work, 'my-toolchain'), path.join(work, 'link'));
  fs.symlinkSync(work, path.join(tmp, 'work-link'));
  const direct = tc.resolveToolchain('./my-toolchain', { env, cwd: work });
  assert.deepEqual(direct, {
    name: 'my-toolchain',
    path: path.join(work, 'my-toolchain'),
    kind: 'path',
  });
  assert.equal(
    tc.resolveToolchain(path.join(tmp, 'work-link', 'my-toolchain'), { env }).path,
    direct.path,
    'links above it are resolved',
  );
  const viaLink = tc.resolveToolchain('./link', { env, cwd: work });
  assert.deepEqual(
    viaLink,
    { name: 'link', path: path.join(work, 'link'), kind: 'path' },
    'a link is its own toolchain: updaters flip it',
  );
  assert.equal(
    tc.resolveToolchain('~/' + path.relative(tmp, path.join(work, 'link')), { env }).path,
    viaLink.path,
  );
  assert.equal(
    tc.resolveToolchain(path.join(tmp, 'work-link', 'link'), { env }).path,
    viaLink.path,
  );
  assert.throws(
    () => tc.resolveToolchain('./absent', { env, cwd: work }),
    (err) => {
      assert.equal(err.code, 'E_UNKNOWN_TOOLCHAIN');
      assert.ok(err.message.includes(path.join(work, 'absent')));
      return true;
    },
  );
  // A path into rustup's toolchains directory is the rustup toolchain: same lock, same updater.
  const inRustup = tc.resolveToolchain(path.join(home, 'toolchains', `stable-${HOST}`), { env });
  assert.equal(inRustup.kind, 'path');
  assert.equal(inRustup.path, tc.resolveToolchain('stable', { env }).path);
  assert.deepEqual(inRustup.updateCommand, ['rustup', 'update', `stable-${HOST}`]);
});

test('configured toolchains win over rustup names and keep their update command', () => {
  const { env } = rustupHomeWith(INSTALLED);
  const dir = fs.mkdtempSync(path.join(tmp, 'conf-'));
  const configured = [
    { name: 'stable', path: dir, updateCommand: ['my-updater', '--all'] },
    { name: 'pinned', rustup: 'nightly-2026-01-01' },
    { name: 'broken' },
  ];
  assert.deepEqual(tc.resolveToolchain('stable', { env, configured }), {
    name: 'stable',
    path: dir,
    kind: 'configured',
    updateCommand: ['my-updater', '--all'],
  });
  const pinned = tc.resolveToolchain('pinned', { env, configured });
  assert.equal(pinned.kind, 'configured');
  assert.equal(pinned.rustupName, `nightly-2026-01-01-${HOST}`);
  assert.deepEqual(pinned.updateCommand, ['rustup', 'update', `nightly-2026-01-01-${HOST}`]);
  assert.throws(() => tc.resolveToolchain('broken', { env, configured }), {
    code: 'E_UNKNOWN_TOOLCHAIN',
  });
});

test('an unknown name lists the known toolchains and where it looked', () => {
  const { home, env } = rustupHomeWith(INSTALLED);
  assert.throws(
    () => tc.resolveToolchain('stabel', { env, configured: [{ name: 'proj', path: tmp }] }),
    (err) => {
      assert.ok(err instanceof tc.ToolchainError);
      assert.equal(err.code, 'E_UNKNOWN_TOOLCHAIN');
      assert.match(err.message, /Unknown toolchain "stabel"/);
      assert.ok(err.message.includes(`stable-${HOST} (rustup)`));
      assert.ok(err.message.includes('proj (configured)'));
      assert.ok(err.message.includes(path.join(home, 'toolchains')));
      assert.deepEqual(err.known, [...INSTALLED.slice().sort(), 'proj']);
      return true;
    },
  );
  const none = { RUSTUP_HOME: path.join(tmp, 'no-rustup'), HOME: tmp };
  assert.throws(
    () => tc.resolveToolchain('stable', { env: none }),
    (err) => {
      assert.equal(err.code, 'E_NO_RUSTUP');
      assert.match(err.message, /does not exist; set RUSTUP_HOME/);
      return true;
    },
  );
});

test('activeRustupToolchain follows rustup: env, nearest override or file, then default', () => {
  const { home, env } = rustupHomeWith(
    INSTALLED,
    `default_host_triple = "${HOST}"\ndefault_toolchain = "stable-${HOST}"\n\n[overrides]\n`,
  );
  const settings = path.join(home, 'settings.toml');
  const repo = fs.mkdtempSync(path.join(tmp, 'repo-'));
  const sub = path.join(repo, 'crates', 'inner');
  fs.mkdirSync(sub, { recursive: true });
  const active = (dir = sub, e = env) => tc.activeRustupToolchain(dir, e);

  assert.equal(active().name, `stable-${HOST}`, 'default_toolchain');
  fs.writeFileSync(
    path.join(repo, 'rust-toolchain.toml'),
    '[toolchain]\nchannel = "nightly-2026-01-01" # pinned\ncomponents = [\n  "rustfmt",\n]\n',
  );
  assert.equal(active().name, `nightly-2026-01-01-${HOST}`, 'rust-toolchain.toml in a parent');
  fs.appendFileSync(settings, `${JSON.stringify(path.join(repo, 'crates'))} = "1.95.0-${HOST}"\n`);
  assert.equal(active().name, `1.95.0-${HOST}`, 'a nearer override beats a farther file');
  fs.writeFileSync(path.join(sub, 'rust-toolchain'), 'nightly\n');
  assert.equal(
    active().name,
    `nightly-${HOST}`,
    'a nearer legacy rust-toolchain file beats a farther override',
  );
  assert.equal(
    active(sub, { ...env, RUSTUP_TOOLCHAIN: 'stable' }).name,
    `stable-${HOST}`,
    'RUSTUP_TOOLCHAIN beats everything',
  );

  // Not installed: the directory rustup would install it in, so the lock is the same afterwards.
  fs.writeFileSync(path.join(sub, 'rust-toolchain'), 'beta\n');
  const beta = active();
  assert.deepEqual(
    [beta.name, beta.kind, beta.path],
    [`beta-${HOST}`, 'rustup', path.join(home, 'toolchains', `beta-${HOST}`)],
  );

  const custom = fs.mkdtempSync(path.join(tmp, 'custom-'));
  // rustup runs a custom toolchain only with a bin/ directory (test/integration/which-rustup.test.mjs).
  fs.mkdirSync(path.join(custom, 'bin'));
  fs.writeFileSync(
    path.join(sub, 'rust-toolchain'),
    `[toolchain]\npath = ${JSON.stringify(custom)}\n`,
  );
  assert.deepEqual(active(), { name: path.basename(custom), path: custom, kind: 'path' });
  // A custom toolchain path that is a link is keyed as the link, as everywhere (A/B flips).
  fs.symlinkSync(custom, path.join(tmp, `${path.basename(custom)}-current`));
  fs.writeFileSync(
    path.join(sub, 'rust-toolchain'),
    `[toolchain]\npath = ${JSON.stringify(path.join(tmp, `${path.basename(custom)}-current`))}\n`,
  );
  assert.deepEqual(active(), {
    name: `${path.basename(custom)}-current`,
    path: path.join(fs.realpathSync(tmp), `${path.basename(custom)}-current`),
    kind: 'path',
  });

  const nothing = rustupHomeWith([], '');
  assert.equal(
    tc.activeRustupToolchain(fs.mkdtempSync(path.join(tmp, 'plain-')), nothing.env),
    null,
  );
});

test('whichToolchain reads rust-toolchain.toml as TOML: tables, dotted keys, inline tables; says which rule chose', () => {
  const { home, env } = rustupHomeWith(
    INSTALLED,
    `default_host_triple = "${HOST}"\ndefault_toolchain = "stable-${HOST}"\n`,
  );
  const repo = fs.mkdtempSync(path.join(tmp, 'repo-'));
  const file = path.join(repo, 'rust-toolchain.toml');
  const which = (e = env) => {
    const w = tc.whichToolchain(repo, e);
    return w && [w.toolchain.name, w.source, w.sourceFile];
  };
  assert.deepEqual(which(), [`stable-${HOST}`, 'default', path.join(home, 'settings.toml')]);
  for (const text of [
    '[toolchain]\nchannel = "nightly"\n',
    'toolchain.channel = "nightly"\n',
    'toolchain = { channel = \'nightly\', components = ["clippy"] }\n',
  ]) {
    fs.writeFileSync(file, text);
    assert.deepEqual(which(), [`nightly-${HOST}`, 'toolchain-file', file], text);
  }
  // Only components: rustup uses the default toolchain (the file still ends the walk).
  fs.writeFileSync(file, '[toolchain]\ncomponents = ["rustfmt"]\n');
  assert.deepEqual(which(), [`stable-${HOST}`, 'toolchain-file', file]);
  // A multi-line legacy file is TOML too, and it wins over rust-toolchain.toml in the same directory.
  fs.writeFileSync(path.join(repo, 'rust-toolchain'), '[toolchain]\nchannel = "1.95.0"\n');
  assert.deepEqual(which(), [
    `1.95.0-${HOST}`,
    'toolchain-file',
    path.join(repo, 'rust-toolchain'),
  ]);
  assert.deepEqual(which({ ...env, RUSTUP_TOOLCHAIN: 'nightly' }), [
    `nightly-${HOST}`,
    'env',
    null,
  ]);

  fs.writeFileSync(file, '[toolchain\nchannel = "nightly"\n');
  fs.rmSync(path.join(repo, 'rust-toolchain'));
  assert.throws(
    () => tc.whichToolchain(repo, env),
    (err) => {
      assert.equal(err.code, 'E_BAD_TOML');
      assert.ok(err.message.startsWith(`${file} is not valid TOML (line 1`), err.message);
      return true;
    },
  );
  fs.writeFileSync(path.join(home, 'settings.toml'), 'default_toolchain = \n');
  assert.throws(
    () => tc.whichToolchain(repo, env),
    (err) => err.code === 'E_BAD_TOML' && err.message.includes(path.join(home, 'settings.toml')),
  );
});

test('not-installed channels resolve (when allowed) to where rustup will install them; linked toolchains have no update command', () => {
  const { home, env } = rustupHomeWith(INSTALLED);
  assert.throws(() => tc.resolveToolchain('1.80.0', { env }), { code: 'E_UNKNOWN_TOOLCHAIN' });
  const missing = tc.resolveToolchain('1.80.0', { env, allowMissing: true });
  assert.deepEqual(missing, {
    name: `1.80.0-${HOST}`,
    path: path.join(home, 'toolchains', `1.80.0-${HOST}`),
    kind: 'rustup',
    rustupName: `1.80.0-${HOST}`,
    updateCommand: ['rustup', 'update', `1.80.0-${HOST}`],
    missing: true,
  });
  assert.equal(
    tc.resolveToolchain(`nightly-2026-02-02-${OTHER}`, { env, allowMissing: true }).name,
    `nightly-2026-02-02-${OTHER}`,
  );
  assert.throws(
    () => tc.resolveToolchain('stabel', { env, allowMissing: true }),
    { code: 'E_UNKNOWN_TOOLCHAIN' },
    'a typo is no channel',
  );
  // Installed, the same path: the same lock.
  fs.mkdirSync(path.join(home, 'toolchains', `1.80.0-${HOST}`));
  const installed = tc.resolveToolchain('1.80.0', { env });
  assert.equal(installed.path, missing.path);
  assert.equal(installed.missing, undefined);

  const custom = fs.mkdtempSync(path.join(tmp, 'custom-'));
  fs.symlinkSync(custom, path.join(home, 'toolchains', 'mytc'));
  const linked = tc.resolveToolchain('mytc', { env });
  assert.deepEqual(
    [linked.path, linked.linked, linked.updateCommand],
    [path.join(fs.realpathSync(home), 'toolchains', 'mytc'), true, undefined],
  );
  const byPath = tc.resolveToolchain(path.join(home, 'toolchains', 'mytc'), { env });
  assert.deepEqual(
    [byPath.path, byPath.rustupName, byPath.linked, byPath.updateCommand],
    [linked.path, 'mytc', true, undefined],
    "its path in rustup's directory is the same linked toolchain",
  );
});

test('a configured toolchain keeps whether its rustup toolchain is linked; the update command is derived once, for CLI and extension', () => {
  const { home, env } = rustupHomeWith(INSTALLED);
  const custom = fs.mkdtempSync(path.join(tmp, 'custom-'));
  fs.symlinkSync(custom, path.join(home, 'toolchains', 'mytc'));
  const configured = [
    { name: 'cfg', rustup: 'mytc' },
    { name: 'cfg-path', path: path.join(home, 'toolchains', 'mytc') },
    { name: 'cfg-own', rustup: 'mytc', updateCommand: ['my-updater'] },
  ];
  for (const name of ['cfg', 'cfg-path']) {
    const t = tc.resolveToolchain(name, { env, configured });
    assert.deepEqual([t.linked, t.rustupName, t.updateCommand], [true, 'mytc', undefined], name);
    assert.deepEqual(tc.updateCommandOf([t]), { linked: t }, `${name}: no default update anywhere`);
  }
  const own = tc.resolveToolchain('cfg-own', { env, configured });
  assert.deepEqual(
    tc.updateCommandOf([own]),
    { argv: ['my-updater'] },
    'a configured command still wins',
  );
  const stable = tc.resolveToolchain('stable', { env });
  const nightly = tc.resolveToolchain('nightly', { env });
  assert.deepEqual(tc.updateCommandOf([stable]), { argv: ['rustup', 'update', `stable-${HOST}`] });
  assert.deepEqual(tc.updateCommandOf([stable, nightly]), {
    argv: ['rustup', 'update', `stable-${HOST}`, `nightly-${HOST}`],
  });
  assert.deepEqual(
    tc.updateCommandOf([stable, tc.resolveToolchain('cfg', { env, configured })]).linked?.name,
    'cfg',
  );
  const plain = tc.resolveToolchain(custom, { env });
  assert.deepEqual(tc.updateCommandOf([stable, plain]), { unmanaged: [plain] });
});
