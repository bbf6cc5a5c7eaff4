// The terminal launcher runs the bundled CLI with the editor's runtime; update commands run as
// argv (never through a shell), stream their output, and die as a tree when cancelled.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { alive, bundleForFile, tempDir, until } from './extension-harness.mjs';

const lib = bundleForFile(
  'launcher',
  "export * from './src/extension/terminal/launcher';\nexport * from './src/extension/actions/run-command';",
);

test(
  'the launcher execs the runtime with the CLI, ELECTRON_RUN_AS_NODE set, arguments intact',
  { skip: process.platform === 'win32' },
  (t) => {
    const dir = tempDir(t);
    const cli = path.join(dir, "it's a cli.js");
    fs.writeFileSync(
      cli,
      'console.log(JSON.stringify({ args: process.argv.slice(2), electron: process.env.ELECTRON_RUN_AS_NODE }))',
    );
    const bin = lib.module.installLauncher(path.join(dir, 'storage'), process.execPath, cli);
    const launcher = path.join(bin, 'toolchain-lock');
    assert.equal(fs.statSync(launcher).mode & 0o777, 0o755);
    const out = JSON.parse(
      execFileSync(launcher, ['update', 'stable', 'a b', '$(x)'], { encoding: 'utf8' }),
    );
    assert.deepEqual(out, { args: ['update', 'stable', 'a b', '$(x)'], electron: '1' });
    // On PATH, as the terminal will have it.
    const viaPath = execFileSync('sh', ['-c', 'toolchain-lock status'], {
      encoding: 'utf8',
      env: { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH}` },
    });
    assert.deepEqual(JSON.parse(viaPath).args, ['status']);
    const before = fs.statSync(launcher).mtimeMs;
    lib.module.installLauncher(path.join(dir, 'storage'), process.execPath, cli);
    assert.equal(fs.statSync(launcher).mtimeMs, before, 'unchanged launcher is not rewritten');
  },
);

test('the Windows launcher is a .cmd that sets ELECTRON_RUN_AS_NODE', () => {
  const { name, text } = lib.module.launcherScript(
    'C:\\Code\\Code.exe',
    'C:\\ext\\dist\\cli.js',
    'win32',
  );
  assert.equal(name, 'toolchain-lock.cmd');
  assert.match(
    text,
    /set ELECTRON_RUN_AS_NODE=1\r\n"C:\\Code\\Code.exe" "C:\\ext\\dist\\cli.js" %\*/,
  );
});

test('runCommand: argv only (no shell), output streamed, exit status reported', async (t) => {
  const dir = tempDir(t);
  let out = '';
  let pid;
  await lib.module.runCommand(
    [
      process.execPath,
      '-e',
      'console.log(process.argv.slice(1).join("|")); console.error("to stderr")',
      '$(echo no)',
      'a;b',
    ],
    {
      cwd: dir,
      logFile: path.join(dir, 'update.log'),
      onOutput: (s) => (out += s),
      onSpawn: (p) => (pid = p),
    },
  );
  assert.match(out, /\$\(echo no\)\|a;b/);
  assert.match(out, /to stderr/);
  assert.equal(
    fs.readFileSync(path.join(dir, 'update.log'), 'utf8'),
    out,
    'the log file holds exactly what was shown',
  );
  assert.ok(pid > 0);
  const log = path.join(dir, 'other.log');
  await assert.rejects(
    lib.module.runCommand([process.execPath, '-e', 'process.exit(3)'], {
      cwd: dir,
      logFile: log,
      onOutput: () => {},
    }),
    /failed \(exit status 3\)/,
  );
  await assert.rejects(
    lib.module.runCommand([path.join(dir, 'nope')], { cwd: dir, logFile: log, onOutput: () => {} }),
    /Cannot run the update command: .*nope does not exist\./,
  );
  // A path through a file: Node throws at once instead of emitting 'error'.
  fs.writeFileSync(path.join(dir, 'a-file'), '');
  const through = path.join(dir, 'a-file', 'updater');
  await assert.rejects(
    lib.module.runCommand([through], { cwd: dir, logFile: log, onOutput: () => {} }),
    new RegExp(
      `^Error: Cannot run the update command: ${through} cannot be run: a part of its path is a file, not a directory\\.$`,
    ),
  );
});

test(
  'runCommand: cancelling ends the whole process tree',
  { skip: process.platform === 'win32' },
  async (t) => {
    const dir = tempDir(t);
    const abort = new AbortController();
    let out = '';
    const script =
      "const c = require('child_process').spawn(process.execPath, ['-e', 'setInterval(()=>{},1000)'], { stdio: 'ignore' }); console.log('child ' + c.pid); setInterval(()=>{},1000)";
    const p = lib.module.runCommand([process.execPath, '-e', script], {
      cwd: dir,
      logFile: path.join(dir, 'update.log'),
      signal: abort.signal,
      onOutput: (s) => (out += s),
      killGraceMs: 500,
    });
    await until(() => /child (\d+)/.test(out), 'child started');
    const child = Number(/child (\d+)/.exec(out)[1]);
    abort.abort();
    await assert.rejects(
      p,
      (err) => err instanceof lib.module.CancelledError && /^Cancelled: /.test(err.message),
    );
    await until(() => !alive(child), 'grandchild ended');
  },
);

test(
  'runCommand: an update outlives the extension host that started it, and its output stays in the log',
  { skip: process.platform === 'win32' },
  async (t) => {
    const dir = tempDir(t);
    const logFile = path.join(dir, 'update.log');
    const done = path.join(dir, 'done');
    // The update prints a line every 50 ms for a while, then marks that it finished.
    const update = `for (let i = 0; i < 20; i++) { console.log('line ' + i); Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50); } require('fs').writeFileSync(${JSON.stringify(done)}, 'ok')`;
    // The "extension host": starts the update through runCommand, and is SIGKILLed after its first line.
    const host = `
    const lib = require(${JSON.stringify(lib.file)});
    lib.runCommand([process.execPath, '-e', ${JSON.stringify(update)}], { cwd: ${JSON.stringify(dir)}, logFile: ${JSON.stringify(logFile)}, onOutput: (s) => process.stdout.write(s) });`;
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, ['-e', host], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise((resolve) =>
      child.stdout.on('data', (d) => /line 0/.test(String(d)) && resolve()),
    );
    child.kill('SIGKILL');
    await until(() => fs.existsSync(done), 'the update to run to completion', 15000);
    const lines = fs.readFileSync(logFile, 'utf8').trim().split('\n');
    assert.equal(lines.length, 20, 'every line of output is in the log');
    assert.equal(lines[19], 'line 19');
  },
);
