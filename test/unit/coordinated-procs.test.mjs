// Which of this process's descendants are "another extension's server": the rule of
// src/extension/servers/coordinated-procs.ts on real processes (a copy of the real proc-macro server).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { cleanup, addProcMacroSrv, bundleForFile, tempDir, until } from './extension-harness.mjs';

const lib = bundleForFile(
  'procs',
  "export * from './src/extension/servers/coordinated-procs';\nexport * from './src/lock/os/proctable';",
  { native: false },
);

function child(t, argv, options = {}) {
  const c = spawn(argv[0], argv.slice(1), {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, RUST_ANALYZER_INTERNALS_DO_NOT_USE: '1' },
    ...options,
  });
  cleanup(t, () => {
    try {
      if (options.detached) process.kill(-c.pid, 'SIGKILL');
      else c.kill('SIGKILL');
    } catch {
      // gone
    }
  });
  return c;
}

test('the server is what runs from the toolchain, or is named like the server, in the host’s process group, with its subtree', async (t) => {
  const tc = tempDir(t, 'tcl-procs-');
  const srv = addProcMacroSrv(tc);
  const other = tempDir(t, 'tcl-procs-other-');
  const otherSrv = addProcMacroSrv(other);
  // A server of another name that runs the toolchain's proc-macro server (as rust-analyzer does).
  const server = child(t, [
    process.execPath,
    '-e',
    `const c = require('child_process').spawn(${JSON.stringify(srv)}, [], { stdio: ['pipe', 'ignore', 'inherit'] }); c.on('spawn', () => console.log(c.pid)); setInterval(() => {}, 1000);`,
  ]);
  const procMacroPid = await new Promise((resolve) =>
    server.stdout.once('data', (d) => resolve(Number(String(d).trim()))),
  );
  // Ours: a managed server from the same toolchain, detached into its own process group.
  const managed = child(t, [srv], { detached: true });
  // Unrelated: a plain child, and a proc-macro server of another toolchain.
  const plain = child(t, [process.execPath, '-e', 'setInterval(() => {}, 1000)']);
  const elsewhere = child(t, [otherSrv]);
  await until(
    () => [managed, plain, elsewhere].every((c) => lib.module.readProcess(c.pid)?.exe),
    'children running',
  );
  const rule = lib.module.serverRule(['rust-analyzer'], [], [tc]);
  const found = lib.module
    .findServerProcesses(process.pid, rule)
    .map((p) => p.pid)
    .sort();
  assert.deepEqual(found, [server.pid, procMacroPid].sort());

  // By name: a program called rust-analyzer (a link to node, as a configured server path may be).
  const bin = path.join(tempDir(t, 'tcl-procs-bin-'), 'rust-analyzer');
  fs.symlinkSync(process.execPath, bin);
  const named = child(t, [bin, '-e', 'setInterval(() => {}, 1000)']);
  await until(
    () => lib.module.readProcess(named.pid)?.name === 'rust-analyzer',
    'named child running',
  );
  assert.ok(
    lib.module.findServerProcesses(process.pid, rule).some((p) => p.pid === named.pid),
    'found by its name',
  );

  // isAlive: the pid and the start time name one process; a dead one is not alive.
  const p = lib.module.readProcess(plain.pid);
  assert.equal(lib.module.isAlive(p.pid, p.startTime), true);
  assert.equal(lib.module.isAlive(p.pid, p.startTime + 1), false);
  plain.kill('SIGKILL');
  await until(() => !lib.module.isAlive(p.pid, p.startTime), 'dead is dead (zombie included)');
});
