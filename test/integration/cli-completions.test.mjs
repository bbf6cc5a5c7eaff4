// `toolchain-lock completions SHELL`: the scripts come from the command table and the help texts.
// The bash script is loaded into a real bash and asked to complete; the others are checked for
// every command (and parsed by their shell where it is installed).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'cli.js');
const run = (...args) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
const COMMANDS = [
  'clean',
  'completions',
  'help',
  'run',
  'rustup',
  'shell-init',
  'shims',
  'status',
  'update',
  'watch',
  'which',
];

/** What bash's completion offers for the words typed (the last one is being completed). */
function bashComplete(script, words) {
  const body = `${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _toolchain_lock; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = spawnSync('bash', ['--norc', '-c', body], { encoding: 'utf8', cwd: path.dirname(cli) });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean);
}

test('bash: commands, then the options of the command typed, from its help', () => {
  const r = run('completions', 'bash');
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(
    bashComplete(r.stdout, ['toolchain-lock', '']).filter((w) => !w.startsWith('-')),
    COMMANDS,
  );
  assert.deepEqual(bashComplete(r.stdout, ['toolchain-lock', 'up']), ['update']);
  assert.deepEqual(bashComplete(r.stdout, ['toolchain-lock', 'update', '--n']), ['--no-wait']);
  assert.deepEqual(
    bashComplete(r.stdout, ['toolchain-lock', '--lock-dir', '/tmp/x', 'status', '--j']),
    ['--json'],
  );
  // Control: an option of another command is not offered.
  assert.deepEqual(bashComplete(r.stdout, ['toolchain-lock', 'run', '--j']), []);
});

test('zsh, fish, powershell: every command; parsed by the shell when installed', () => {
  for (const shell of ['zsh', 'fish', 'powershell']) {
    const r = run('completions', shell);
    assert.equal(r.status, 0, `${shell}: ${r.stderr}`);
    for (const c of COMMANDS) assert.ok(r.stdout.includes(c), `${shell} script names ${c}`);
    assert.match(r.stdout, /(--|-l )no-wait/, `${shell} script has update's --no-wait`);
    const check = { zsh: 'zsh', fish: 'fish' }[shell];
    if (check && spawnSync('which', [check]).status === 0) {
      const file = path.join(os.tmpdir(), `tcl-completions-${process.pid}.${shell}`);
      fs.writeFileSync(file, r.stdout);
      const p = spawnSync(check, ['-n', file], { encoding: 'utf8' });
      fs.rmSync(file, { force: true });
      assert.equal(p.status, 0, `${shell} parses it: ${p.stderr}`);
    }
  }
});

test('a shell it does not know, or none: usage error 64 naming the shells', () => {
  for (const args of [['completions'], ['completions', 'tcsh']]) {
    const r = run(...args);
    assert.equal(r.status, 64);
    assert.match(r.stderr, /bash, zsh, fish, powershell/);
  }
  assert.match(run('help', 'completions').stdout, /eval "\$\(toolchain-lock completions bash\)"/);
});
