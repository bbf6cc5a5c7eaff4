// The native lock module as users meet it: the CLI without its binary, with a damaged one, the
// module's own errors, and lock files an attacker planted (a FIFO, a symlink).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { CLI, ROOT, cli, sandbox } from '../fixtures/cli-harness.mjs';

const require = createRequire(import.meta.url);
const target = `${process.platform}-${process.arch}`;
const binary = path.join(ROOT, 'prebuilds', target, 'toolchain_lock.node');

/** A copy of the CLI laid out as in the VSIX (dist/cli.js, prebuilds/…), with `native` as its binary. */
function installedCli(dir, native) {
  fs.mkdirSync(path.join(dir, 'dist'), { recursive: true });
  fs.copyFileSync(CLI, path.join(dir, 'dist', 'cli.js'));
  if (native !== undefined) {
    fs.mkdirSync(path.join(dir, 'prebuilds', target), { recursive: true });
    fs.writeFileSync(path.join(dir, 'prebuilds', target, 'toolchain_lock.node'), native);
  }
  return path.join(dir, 'dist', 'cli.js');
}

test('without its native binary the CLI exits 70 naming the platform and what to do; nothing runs', async (t) => {
  const { dir, env, toolchain } = sandbox(t);
  const tc = toolchain();
  const copy = installedCli(path.join(dir, 'install'));
  const marker = path.join(dir, 'ran');
  const r = await cli(['run', tc, '--', 'touch', marker], { env, cliPath: copy });
  assert.equal(r.code, 70, r.stderr);
  assert.match(
    r.stderr,
    new RegExp(
      `there is no native lock module for ${target} \\(looked for .*prebuilds/${target}/toolchain_lock\\.node\\)`,
    ),
  );
  assert.match(r.stderr, /Reinstall the extension/);
  assert.equal(fs.existsSync(marker), false, 'CMD must not run without a lock');
});

test("a damaged native binary is reported as unloadable, with the loader's reason", async (t) => {
  const { dir, env, toolchain } = sandbox(t);
  const tc = toolchain();
  const copy = installedCli(path.join(dir, 'install'), 'not an ELF file');
  const r = await cli(['update', tc, '--', 'true'], { env, cliPath: copy });
  assert.equal(r.code, 70, r.stderr);
  assert.match(
    r.stderr,
    new RegExp(
      `the native lock module for ${target} .* could not be loaded: .*(invalid ELF header|too short)`,
    ),
  );
  assert.match(r.stderr, /damaged or was built for another platform/);
});

test('the module works from a copy beside any dist/: the layout of the VSIX', async (t) => {
  const { dir, env, toolchain } = sandbox(t);
  const tc = toolchain();
  const copy = installedCli(path.join(dir, 'install'), fs.readFileSync(binary));
  const r = await cli(['run', tc, '--', process.execPath, copy, 'status', tc, '--json'], {
    env,
    cliPath: copy,
  });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).toolchains[0].state, 'read');
});

test("the module's errors carry errno names, the system call and the path", (t) => {
  const { dir } = sandbox(t);
  const m = require(binary);
  const file = path.join(dir, 'x.lock');
  const h = m.open(file);
  const other = m.open(file);
  try {
    assert.equal(m.tryLock(h, true), true);
    assert.equal(
      m.tryLock(other, false),
      false,
      'a second open file is refused while the first holds LOCK_EX',
    );
    m.unlock(h);
    assert.equal(m.tryLock(other, false), true);
    assert.equal(m.tryLock(h, false), true, 'shared locks coexist');
  } finally {
    m.close(h);
    m.close(other);
  }
  assert.throws(() => m.tryLock(h, true), { code: 'EBADF', syscall: 'flock' });
  fs.symlinkSync(path.join(dir, 'elsewhere'), path.join(dir, 'link.lock'));
  assert.throws(() => m.open(path.join(dir, 'link.lock')), {
    code: 'ELOOP',
    syscall: 'open',
    path: path.join(dir, 'link.lock'),
  });
  assert.equal(fs.existsSync(path.join(dir, 'elsewhere')), false, 'the link was not followed');
  assert.throws(() => m.open(dir), { code: 'EISDIR' });
  execFileSync('mkfifo', [path.join(dir, 'fifo.lock')]);
  assert.throws(() => m.open(path.join(dir, 'fifo.lock')), {
    code: 'EFTYPE',
    message: /not a regular file/,
  });
  assert.throws(() => m.open(path.join(dir, 'no', 'such', 'dir', 'x.lock')), { code: 'ENOENT' });
  assert.throws(() => m.open(42), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => m.tryLock(-1, true), { code: 'ERR_INVALID_ARG_TYPE' });
});

test('a FIFO planted as the lock file is refused with 77 at once, not waited on in open()', async (t) => {
  const { env, lockDir, toolchain } = sandbox(t);
  const tc = toolchain();
  const st = await cli(['status', tc, '--json'], { env });
  const lockFile = JSON.parse(st.stdout).toolchains[0].lockFile;
  fs.mkdirSync(lockDir, { recursive: true, mode: 0o700 });
  execFileSync('mkfifo', [lockFile]);
  for (const args of [
    ['run', tc, '--', 'true'],
    ['update', tc, '--', 'true'],
  ]) {
    const r = await cli(args, { env });
    assert.equal(r.code, 77, `${args[0]}: ${r.stderr}`);
    assert.match(
      r.stderr,
      /The lock file .* is not a regular file\. Delete it; it will be recreated\./,
    );
  }
});
