// The CLI knows the toolchains an editor configured (TOOLCHAIN_LOCK_TOOLCHAINS, set by the
// extension in its terminals), and runs their update command by default.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot, tempDir } from '../helpers.mjs';

const cli = path.join(repoRoot, 'dist', 'cli.js');

test('update NAME resolves a configured toolchain and runs its update command', (t) => {
  const root = tempDir(t);
  const tc = path.join(root, 'demo-toolchain');
  fs.mkdirSync(tc);
  const marker = path.join(root, 'updated');
  const configured = [
    {
      name: 'demo',
      path: tc,
      updateCommand: [
        process.execPath,
        '-e',
        `require('fs').writeFileSync(${JSON.stringify(marker)}, 'yes')`,
      ],
    },
  ];
  const env = {
    ...process.env,
    TOOLCHAIN_LOCK_DIR: path.join(root, 'locks'),
    TOOLCHAIN_LOCK_TOOLCHAINS: JSON.stringify(configured),
    RUSTUP_HOME: path.join(root, 'no-rustup'),
  };
  const r = spawnSync(process.execPath, [cli, 'update', 'demo'], { env, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(fs.readFileSync(marker, 'utf8'), 'yes');
  const s = spawnSync(process.execPath, [cli, 'status', 'demo', '--json'], {
    env,
    encoding: 'utf8',
  });
  assert.equal(JSON.parse(s.stdout).toolchains[0].path, fs.realpathSync(tc));
  // Control: without the variable the name is unknown (78) and the error says what it knows.
  const u = spawnSync(process.execPath, [cli, 'update', 'demo'], {
    env: { ...env, TOOLCHAIN_LOCK_TOOLCHAINS: '' },
    encoding: 'utf8',
  });
  assert.equal(u.status, 78, u.stderr);
  // Garbage in the variable is ignored, not a crash.
  const g = spawnSync(process.execPath, [cli, 'status', '--json'], {
    env: { ...env, TOOLCHAIN_LOCK_TOOLCHAINS: '{not json' },
    encoding: 'utf8',
  });
  assert.equal(g.status, 0, g.stderr);
});

test('watch refuses an unsafe lock directory at once with 77, and says so once', (t) => {
  const root = tempDir(t);
  const open = path.join(root, 'open');
  fs.mkdirSync(open);
  fs.chmodSync(open, 0o777);
  const r = spawnSync(process.execPath, [cli, 'watch', '--lock-dir', open], {
    encoding: 'utf8',
    timeout: 10000,
  });
  assert.equal(r.status, 77, r.stderr);
  assert.equal(r.stderr.match(/writable by others/g)?.length, 1, r.stderr);
  assert.doesNotMatch(r.stderr, /Cannot read the lock directory/);
});
