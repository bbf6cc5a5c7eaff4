// Errors with context (issue 19 item 4): a failed lock call names the operation and the file,
// ENOTSUP/ENOSYS/ENOLCK are a file-system problem with a hint (exit 77, not "a bug"), causes are
// kept. The real native module is called where the kernel can be made to fail (a closed
// descriptor); errors the kernel gives only on file systems without locks are built the way the
// native module throws them (native/lock.c tl_throw: code, errno, syscall).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { TARGETS as BUILD_TARGETS } from '../../scripts/build-native.mjs';
import { bundleForFile } from './extension-harness.mjs';

const lib = bundleForFile(
  'errors',
  "export * from './src/lock/errors';\nexport { tryLock, unlock } from './src/lock/os/flock';\nexport { describeFailure } from './src/cli/exit-codes';\nexport { parseToml } from './src/toolchains/toml';\nexport { PREBUILT_TARGETS } from './src/lock/os/native';",
);

const nativeError = (code, errno) =>
  Object.assign(new Error(`${code}: something, flock`), { code, errno, syscall: 'flock' });

test('a lock call the kernel refuses names the operation and the file, and keeps the cause', () => {
  const file = '/nowhere/stable-0123456789ab.lock';
  // A descriptor that is not open: the real flock(2) says EBADF.
  const fd = fs.openSync(os.devNull, 'r');
  fs.closeSync(fd);
  assert.throws(
    () => lib.module.tryLock(fd, 'write', file),
    (err) => {
      assert.equal(err.code, 'E_LOCK_FAILED');
      assert.equal(err.op, 'lock (exclusive)');
      assert.equal(err.path, file);
      assert.equal(err.cause.code, 'EBADF');
      assert.match(
        err.message,
        /^Cannot lock \(exclusive\) \/nowhere\/stable-0123456789ab\.lock \(EBADF: /,
      );
      return true;
    },
  );
  assert.throws(
    () => lib.module.unlock(fd, file),
    (err) => err.op === 'unlock' && err.path === file,
  );
  const failure = lib.module.describeFailure(
    lib.module.lockFailure('unlock', file, nativeError('EBADF', 9)),
  );
  assert.equal(failure.status, 70);
  assert.match(failure.message, /Cannot unlock \/nowhere/);
});

test('ENOTSUP, EOPNOTSUPP, ENOSYS and ENOLCK mean a file system without locks: exit 77 with what to do, not "a bug"', () => {
  for (const [code, errno] of [
    ['ENOTSUP', 95],
    ['EOPNOTSUPP', 95],
    ['ENOSYS', 38],
    ['ENOLCK', 37],
  ]) {
    const cause = nativeError(code, errno);
    const err = lib.module.lockFailure('lock (shared)', '/mnt/nfs/locks/x.lock', cause);
    assert.equal(err.code, 'E_LOCK_UNSUPPORTED', code);
    assert.equal(err.cause, cause);
    assert.match(err.message, new RegExp(`/mnt/nfs/locks/x\\.lock \\(${code}: `));
    assert.match(err.message, /TOOLCHAIN_LOCK_DIR/);
    const failure = lib.module.describeFailure(err);
    assert.equal(failure.status, 77, code);
    assert.doesNotMatch(failure.message, /bug/);
  }
  // Control: before classification an ENOLCK reached the CLI as an internal error.
  assert.equal(lib.module.describeFailure(nativeError('ENOLCK', 37)).status, 70);
});

test('a ToolchainError keeps its cause', () => {
  assert.throws(
    () => lib.module.parseToml('[toolchain\n', '/p/rust-toolchain.toml'),
    (err) => err.code === 'E_BAD_TOML' && err.cause instanceof Error,
  );
});

test('the targets the missing-module message calls supported are the ones scripts/build-native.mjs builds', () => {
  // The bundled engine cannot import the build script, so the list is written twice: keep them one.
  const { PREBUILT_TARGETS } = lib.module;
  assert.deepEqual([...PREBUILT_TARGETS].sort(), Object.keys(BUILD_TARGETS).sort());
});
