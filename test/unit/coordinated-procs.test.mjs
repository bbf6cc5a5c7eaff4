// Which of this process's descendants are "another extension's server": the rule of
// src/extension/servers/coordinated-procs.ts on real processes (a copy of the real proc-macro server).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { addProcMacroSrv, bundle, tempDir, until } from './extension-harness.mjs';

let lib;
let buildDir;
before(async () => {
  buildDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tcl-procs-build-'));
  lib = (
    await bundle(
      buildDir,
      'procs',
      "export * from './src/extension/servers/coordinated-procs';\nexport * from './src/lock/proctable';",
      { native: false },
    )
  ).module;
});
after(() => fs.rmSync(buildDir, { recursive: true, force: true }));

function child(t, argv, options = {}) {
  const c = spawn(argv[0], argv.slice(1), {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, RUST_ANALYZER_INTERNALS_DO_NOT_USE: '1' },
    ...options,
  });
  t.after(() => {
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
    () => [managed, plain, elsewhere].every((c) => lib.readProcess(c.pid)?.exe),
    'children running',
  );
  const rule = lib.serverRule(['rust-analyzer'], [], [tc]);
  const found = lib
    .findServerProcesses(process.pid, rule)
    .map((p) => p.pid)
    .sort();
  assert.deepEqual(found, [server.pid, procMacroPid].sort());

  // By name: a program called rust-analyzer (a link to node, as a configured server path may be).
  const bin = path.join(tempDir(t, 'tcl-procs-bin-'), 'rust-analyzer');
  fs.symlinkSync(process.execPath, bin);
  const named = child(t, [bin, '-e', 'setInterval(() => {}, 1000)']);
  await until(() => lib.readProcess(named.pid)?.name === 'rust-analyzer', 'named child running');
  assert.ok(
    lib.findServerProcesses(process.pid, rule).some((p) => p.pid === named.pid),
    'found by its name',
  );

  // isAlive: the pid and the start time name one process; a dead one is not alive.
  const p = lib.readProcess(plain.pid);
  assert.equal(lib.isAlive(p.pid, p.startTime), true);
  assert.equal(lib.isAlive(p.pid, p.startTime + 1), false);
  plain.kill('SIGKILL');
  await until(() => !lib.isAlive(p.pid, p.startTime), 'dead is dead (zombie included)');
});
