// Shims (issue 16): `shims install|dir|uninstall`, `shell-init` run by the real shells, and plain
// `cargo`, `rustc`, `rustup` through the shims with the machine's real rustup and toolchains, in a
// private world (test/fixtures/shim-world.mjs). Updates with the real rustup are in
// shims-rustup988.test.mjs (they need the test bed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cli, statusOf } from '../fixtures/cli-harness.mjs';
import { full, machineRustup, PROXIES, shimWorld } from '../fixtures/shim-world.mjs';

const noRustup = machineRustup() === null;
const skipNoRustup = (t) => {
  if (!noRustup) return false;
  t.diagnostic('skipped: no rustup');
  t.skip('skipped: no rustup');
  return true;
};

/** The lock states of every toolchain that is not free. */
async function heldLocks(env) {
  return (await statusOf(env)).toolchains
    .filter((s) => s.state !== 'free')
    .map((s) => ({ name: s.name, state: s.state }));
}

test('shims install writes rustup and each proxy beside it and prints the directory; uninstall removes only its own files', async (t) => {
  if (skipNoRustup(t)) return;
  const w = shimWorld(t);
  // A program beside rustup that is not rustup is no proxy.
  fs.writeFileSync(path.join(w.cargoBin, 'cargo-extra'), '#!/bin/sh\necho extra\n', {
    mode: 0o755,
  });
  const r = await w.install();
  assert.equal(r.stdout, `${w.shimDir}\n`);
  assert.match(r.stderr, /wrote 14 shims for .*cargo\/bin\/rustup into/);
  assert.deepEqual(
    fs
      .readdirSync(w.shimDir)
      .filter((n) => !n.startsWith('.'))
      .sort(),
    ['rustup', ...PROXIES].sort(),
  );
  for (const p of ['rustup', ...PROXIES])
    assert.equal(fs.statSync(path.join(w.shimDir, p)).mode & 0o777, 0o755, p);
  // Installing again rewrites nothing that did not change.
  const before = fs.statSync(path.join(w.shimDir, 'cargo')).mtimeMs;
  await w.install();
  assert.equal(fs.statSync(path.join(w.shimDir, 'cargo')).mtimeMs, before);

  // Only files we wrote go: a note of the user's stays, and so does the directory holding it.
  fs.writeFileSync(path.join(w.shimDir, 'notes.txt'), 'mine');
  const u = await cli(['shims', 'uninstall', '--dir', w.shimDir], { env: w.env });
  assert.equal(u.code, 0, u.stderr);
  assert.equal(u.stdout, `${w.shimDir}\n`);
  assert.match(u.stderr, /removed 14 shims from/);
  assert.match(u.stderr, /still on PATH: remove the `toolchain-lock shell-init` line/);
  assert.deepEqual(fs.readdirSync(w.shimDir), ['notes.txt']);
  fs.rmSync(path.join(w.shimDir, 'notes.txt'));
  await w.install();
  await cli(['shims', 'uninstall', '--dir', w.shimDir], { env: w.env });
  assert.equal(fs.existsSync(w.shimDir), false, 'an emptied shim directory goes too');
});

test('shims install refuses to overwrite a program that is not a shim of ours, and writes nothing', async (t) => {
  if (skipNoRustup(t)) return;
  const w = shimWorld(t);
  const dir = path.join(w.dir, 'bin');
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'cargo'), '#!/bin/sh\necho my own cargo\n', { mode: 0o755 });
  const r = await cli(['shims', 'install', '--dir', dir], { env: w.env });
  assert.equal(r.code, 78, r.stderr);
  assert.match(
    r.stderr,
    /Not writing shims into .*bin: .*bin\/cargo is not a toolchain-lock shim\. Choose an empty directory with --dir/,
  );
  assert.deepEqual(fs.readdirSync(dir), ['cargo']);
  assert.equal(fs.readFileSync(path.join(dir, 'cargo'), 'utf8'), '#!/bin/sh\necho my own cargo\n');
});

test('the default shim directory: TOOLCHAIN_LOCK_SHIM_DIR, else $XDG_DATA_HOME, else ~/.local/share', async (t) => {
  if (skipNoRustup(t)) return;
  const w = shimWorld(t);
  const home = (await cli(['shims', 'install'], { env: w.env })).stdout.trim();
  assert.equal(home, path.join(w.dir, '.local', 'share', 'toolchain-lock', 'shims'));
  const xdg = path.join(w.dir, 'xdg');
  assert.equal(
    (await cli(['shims', 'dir'], { env: { ...w.env, XDG_DATA_HOME: xdg } })).stdout.split('\n')[0],
    path.join(xdg, 'toolchain-lock', 'shims'),
  );
  const own = path.join(w.dir, 'own');
  assert.equal(
    (
      await cli(['shims', 'dir'], {
        env: { ...w.env, XDG_DATA_HOME: xdg, TOOLCHAIN_LOCK_SHIM_DIR: own },
      })
    ).stdout.split('\n')[0],
    own,
  );
});

test('shims dir says whether the shims are in effect: first, absent, behind ~/.cargo/bin, twice, removed but on PATH', async (t) => {
  if (skipNoRustup(t)) return;
  const w = shimWorld(t);
  const dirOf = (PATH) => cli(['shims', 'dir', '--dir', w.shimDir], { env: { ...w.env, PATH } });
  const notInstalled = await dirOf(w.env.PATH);
  assert.equal(notInstalled.code, 1);
  assert.match(
    notInstalled.stdout,
    /not in effect: no shims in .*shims\. Write them with `toolchain-lock shims install`/,
  );
  assert.match(
    notInstalled.stdout,
    /is on PATH but holds no shims \(removed\?\)\. Take it off PATH/,
  );
  await w.install();

  const first = await dirOf(w.env.PATH);
  assert.equal(first.code, 0, first.stdout);
  assert.equal(first.stdout.split('\n')[0], w.shimDir);
  assert.match(first.stdout, /in effect: plain cargo, .*rustup run through the shims in/);

  const absent = await dirOf([w.cargoBin, ...w.system].join(':'));
  assert.equal(absent.code, 1);
  assert.match(
    absent.stdout,
    new RegExp(
      `not in effect: ${w.shimDir} is not on PATH\\. Turn them on with \`eval "\\$\\(toolchain-lock shell-init bash --dir ${w.shimDir}\\)"\``,
    ),
  );

  const behind = await dirOf([w.cargoBin, w.shimDir, ...w.system].join(':'));
  assert.equal(behind.code, 1);
  assert.match(
    behind.stdout,
    new RegExp(`not in effect: ${w.cargoBin} comes before ${w.shimDir} on PATH`),
  );

  const twice = await dirOf([w.shimDir, w.shimDir, w.cargoBin, ...w.system].join(':'));
  assert.equal(twice.code, 0);
  assert.match(twice.stdout, /is on PATH 2 times; once is enough/);

  const json = JSON.parse(
    (
      await cli(['shims', 'dir', '--dir', w.shimDir, '--json'], {
        env: { ...w.env, PATH: [w.cargoBin, w.shimDir, ...w.system].join(':') },
      })
    ).stdout,
  );
  assert.deepEqual(
    { ...json, programs: json.programs.length },
    {
      dir: w.shimDir,
      installed: true,
      programs: 14,
      inEffect: false,
      onPath: 1,
      resolved: path.join(w.cargoBin, 'rustup'),
      ahead: [w.cargoBin],
    },
  );

  fs.rmSync(w.shimDir, { recursive: true });
  const removed = await dirOf(w.env.PATH);
  assert.equal(removed.code, 1);
  assert.match(removed.stdout, /is on PATH but holds no shims \(removed\?\)/);
});

for (const shellName of ['bash', 'zsh', 'fish']) {
  test(`shell-init ${shellName}: the shims go first on PATH, once, however often it runs; --off takes them off`, (t) => {
    const which = ['/usr/bin', '/bin']
      .map((d) => path.join(d, shellName))
      .find((f) => fs.existsSync(f));
    if (!which) {
      t.skip(`skipped: no ${shellName} (scripts/install-system-deps.sh installs it)`);
      return;
    }
    const dir = "/tmp/it's a shim dir";
    const init = (off = false) =>
      execFileSync(
        process.execPath,
        [
          path.resolve('dist/cli.js'),
          'shell-init',
          shellName,
          '--dir',
          dir,
          ...(off ? ['--off'] : []),
        ],
        { encoding: 'utf8' },
      );
    const on = init();
    const off = init(true);
    const start = ['/usr/bin', dir, '/bin', dir].join(':');
    const load = shellName === 'fish' ? (text) => `${text}\n` : (text) => `eval ${quote(text)}\n`;
    const printPath = shellName === 'fish' ? 'string join : $PATH' : 'printf "%s\\n" "$PATH"';
    const run = (script) =>
      execFileSync(which, ['-c', script], {
        encoding: 'utf8',
        env: { PATH: start, HOME: '/tmp' },
      }).trim();
    assert.equal(run(`${load(on)}${printPath}`), [dir, '/usr/bin', '/bin'].join(':'));
    assert.equal(run(`${load(on)}${load(on)}${printPath}`), [dir, '/usr/bin', '/bin'].join(':'));
    assert.equal(run(`${load(on)}${load(off)}${printPath}`), ['/usr/bin', '/bin'].join(':'));
  });
}

/** A shell word holding `s` exactly. */
function quote(s) {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

test('shell-init powershell prints the PATH edit (text only: no PowerShell on this machine to run it)', () => {
  const text = execFileSync(
    process.execPath,
    ['dist/cli.js', 'shell-init', 'powershell', '--dir', "/home/o'neil/shims"],
    { encoding: 'utf8' },
  );
  assert.match(text, /\$__tlDir = '\/home\/o''neil\/shims'/);
  assert.match(
    text,
    /\$env:PATH = \(@\(\$__tlDir\) \+ \$__tlPath\) -join \[IO\.Path\]::PathSeparator/,
  );
  const bad = spawnSync(process.execPath, ['dist/cli.js', 'shell-init', 'tcsh'], {
    encoding: 'utf8',
  });
  assert.equal(bad.status, 64);
  assert.match(
    bad.stderr,
    /Name one shell: toolchain-lock shell-init bash\|zsh\|fish\|powershell \(got tcsh\)/,
  );
});
