// The CLI as an npm package: `scripts/pack-cli.mjs` (npm pack), installed globally into a
// temporary prefix offline (`npm install -g --prefix`), run from there: it takes and reports a
// real lock with the native module it carries, and nothing was built on install.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { TARGETS as BUILD_TARGETS } from '../../scripts/build-native.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const TARGETS = Object.keys(BUILD_TARGETS);

test(
  'npm pack → npm install -g --prefix (offline) → toolchain-lock runs, locks, completes',
  { timeout: 600_000 },
  (t) => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tcl-npm-'));
    t.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
    const prebuilt = TARGETS.every((x) =>
      fs.existsSync(path.join(root, 'prebuilds', x, 'toolchain_lock.node')),
    );
    const pack = spawnSync(
      process.execPath,
      [
        path.join(root, 'scripts', 'pack-cli.mjs'),
        '--out',
        tmp,
        ...(prebuilt ? ['--prebuilt'] : []),
      ],
      { encoding: 'utf8' },
    );
    assert.equal(pack.status, 0, pack.stdout + pack.stderr);
    const tarball = path.join(
      tmp,
      fs.readdirSync(tmp).find((f) => f.endsWith('.tgz')),
    );
    assert.match(
      pack.stdout,
      /KiB, 10 files, native lock module for linux-x64, linux-arm64, darwin-x64, darwin-arm64, win32-x64, win32-arm64/,
    );

    const prefix = path.join(tmp, 'prefix');
    const cache = path.join(tmp, 'npm-cache');
    const install = spawnSync(
      'npm',
      [
        'install',
        '-g',
        '--prefix',
        prefix,
        '--offline',
        '--no-audit',
        '--no-fund',
        '--cache',
        cache,
        tarball,
      ],
      { encoding: 'utf8' },
    );
    assert.equal(install.status, 0, install.stdout + install.stderr);
    const bin = path.join(prefix, 'bin', 'toolchain-lock');
    const installed = path.join(prefix, 'lib', 'node_modules', 'toolchain-lock');
    // Nothing compiled on install: exactly the shipped files, no build directory.
    assert.ok(!fs.existsSync(path.join(installed, 'build')));
    assert.deepEqual(fs.readdirSync(path.join(installed, 'prebuilds')).sort(), [...TARGETS].sort());

    const run = (...args) =>
      spawnSync(bin, args, {
        encoding: 'utf8',
        env: {
          ...process.env,
          PATH: `${path.join(prefix, 'bin')}${path.delimiter}${process.env.PATH}`,
        },
      });
    const version = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version;
    assert.equal(run('--version').stdout.trim(), `toolchain-lock ${version}`);
    // A real lock with the module the package carries: `run` holds the read lock while its command
    // asks `status` (the installed one) who holds it.
    const toolchain = path.join(tmp, 'tc');
    fs.mkdirSync(toolchain);
    const lockDir = path.join(tmp, 'locks');
    const held = run(
      'run',
      toolchain,
      '--lock-dir',
      lockDir,
      '--',
      bin,
      'status',
      toolchain,
      '--json',
      '--lock-dir',
      lockDir,
    );
    assert.equal(held.status, 0, held.stderr);
    const [status] = JSON.parse(held.stdout).toolchains;
    assert.equal(status.state, 'read');
    assert.equal(status.holders.length, 1);
    assert.equal(
      JSON.parse(run('status', toolchain, '--json', '--lock-dir', lockDir).stdout).toolchains[0]
        .state,
      'free',
    );
    assert.match(
      run('completions', 'bash').stdout,
      /complete -o default -F _toolchain_lock toolchain-lock/,
    );
  },
);
