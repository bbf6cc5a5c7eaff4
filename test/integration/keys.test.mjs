// One lock per toolchain, whoever computes the key: the engine and an independent client written
// from docs/PROTOCOL.md §2 alone (python) must agree, also for names beyond ASCII and for a
// directory that an install has not created yet.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { CLI, cli, sandbox, start } from '../fixtures/cli-harness.mjs';

const engine = createRequire(import.meta.url)('../../dist/lock.js');

// PROTOCOL.md §2, written from the document: made absolute without normalising, trailing
// separators dropped; a path whose last component is a name that is a symbolic link is its
// parent's canonical form plus the link's name; otherwise realpath of the deepest existing
// ancestor plus the rest (normalised textually); sanitize per code point; sha256 of the UTF-8 path.
const PYTHON_CLIENT = `
import hashlib, os, re, sys
def canonical(p):
    p = os.path.join(os.getcwd(), p).rstrip('/') or '/'
    last = p.rsplit('/', 1)[-1]
    if last not in ('', '.', '..') and os.path.islink(p):
        return os.path.join(ancestry(p[:len(p) - len(last)]), last)
    return ancestry(p)
def ancestry(p):
    rest = []
    while not os.path.exists(p):
        parent = os.path.dirname(p)
        if parent == p:
            return os.path.normpath(sys.argv[1])
        rest.append(os.path.basename(p))
        p = parent
    return os.path.normpath(os.path.join(os.path.realpath(p), *reversed(rest)))
c = canonical(sys.argv[1])
name = re.sub(r'[^A-Za-z0-9._-]', '_', os.path.basename(c)).lstrip('.')[:64] or 'root'
print(name + '-' + hashlib.sha256(c.encode('utf-8')).hexdigest()[:12])
`;
const pythonKey = (dir) =>
  execFileSync('python3', ['-c', PYTHON_CLIENT, dir], { encoding: 'utf8' }).trim();

test('a directory named with an emoji and accents has one key: the CLI and a client of the document agree', async (t) => {
  const { dir, env } = sandbox(t);
  const tc = path.join(dir, 'tc-🦀-ü');
  fs.mkdirSync(tc);
  const r = await cli(['status', tc, '--json'], { env });
  assert.equal(r.code, 0, r.stderr);
  const key = JSON.parse(r.stdout).toolchains[0].key;
  assert.match(key, /^tc-_-_-[0-9a-f]{12}$/, 'one "_" per code point');
  assert.equal(key, pythonKey(tc));
  assert.ok(fs.existsSync(CLI));
});

test('the key of a toolchain not installed yet does not change when the install creates it under a symlinked ancestor', (t) => {
  const { dir } = sandbox(t);
  fs.mkdirSync(path.join(dir, 'llvm-14'));
  fs.symlinkSync(path.join(dir, 'llvm-14'), path.join(dir, 'current'));
  const tc = path.join(dir, 'current', 'toolchains', 'nightly');
  const before = engine.toolchainKey(tc);
  assert.equal(before, pythonKey(tc));
  fs.mkdirSync(tc, { recursive: true });
  assert.equal(engine.toolchainKey(tc), before, 'same key after the directory exists');
  assert.equal(
    engine.canonicalToolchainPath(tc),
    path.join(fs.realpathSync(dir), 'llvm-14', 'toolchains', 'nightly'),
  );
});

test('status and update take a directory an install is about to create; run of a missing one stays 78', async (t) => {
  const { dir, env } = sandbox(t);
  fs.mkdirSync(path.join(dir, 'llvm-14'));
  fs.symlinkSync(path.join(dir, 'llvm-14'), path.join(dir, 'current'));
  const tc = path.join(dir, 'current', 'new-toolchain');
  const before = await cli(['status', tc, '--json'], { env });
  assert.equal(before.code, 0, before.stderr);
  const keyBefore = JSON.parse(before.stdout).toolchains[0].key;
  const install = await cli(['update', tc, '--', 'mkdir', tc], { env });
  assert.equal(install.code, 0, install.stderr);
  assert.ok(fs.statSync(tc).isDirectory(), 'the install ran under the lock');
  const after = await cli(['status', tc, '--json'], { env });
  assert.equal(
    JSON.parse(after.stdout).toolchains[0].key,
    keyBefore,
    'one lock before and after the install',
  );
  const run = await cli(['run', path.join(dir, 'current', 'not-there'), '--', 'true'], { env });
  assert.equal(run.code, 78, run.stderr);
});

/** Points `link` at `target` in one rename, as A/B updaters do. */
function flip(link, target) {
  const next = `${link}.next`;
  fs.symlinkSync(target, next);
  fs.renameSync(next, link);
}

test('a toolchain path that is a symlink flipped by A/B updates is one lock across flips; a client of the document agrees', async (t) => {
  const { dir, env } = sandbox(t);
  fs.mkdirSync(path.join(dir, 'llvm-14'));
  fs.mkdirSync(path.join(dir, 'llvm-15'));
  const current = path.join(dir, 'current');
  fs.symlinkSync(path.join(dir, 'llvm-14'), current);
  const key = async (tc) => {
    const r = await cli(['status', tc, '--json'], { env });
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout).toolchains[0];
  };
  const before = await key(current);
  assert.match(before.key, /^current-[0-9a-f]{12}$/);
  assert.equal(before.path, current, 'the link itself, not its target');
  assert.equal(before.key, pythonKey(current));
  assert.notEqual(
    before.key,
    (await key(path.join(dir, 'llvm-14'))).key,
    'the target has a lock of its own',
  );

  // A reader through the link holds the same lock after the flip: the next update through the
  // link waits for it, whichever directory the reader started in.
  const reader = start(
    [
      'run',
      current,
      '--',
      process.execPath,
      '-e',
      'console.log("running"); setTimeout(() => {}, 60000)',
    ],
    { env },
  );
  await reader.waitFor('stdout', /running/);
  flip(current, path.join(dir, 'llvm-15'));
  const after = await key(current);
  assert.equal(after.key, before.key, 'same key after the flip');
  assert.equal(after.key, pythonKey(current));
  assert.equal(after.state, 'read', 'the reader that started before the flip still holds it');
  reader.child.kill('SIGTERM');
  await reader.result();
});

test('`..` and `.` after a link are resolved as the kernel resolves them, never textually first; a client of the document agrees', async (t) => {
  const { dir, env } = sandbox(t);
  // tc/linkfar -> far/away/target; tc/plain and far/away/plain both exist.
  const tc = path.join(dir, 'tc');
  fs.mkdirSync(path.join(dir, 'far', 'away', 'target'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'far', 'away', 'plain'));
  fs.mkdirSync(path.join(tc, 'plain'), { recursive: true });
  fs.symlinkSync(path.join(dir, 'far', 'away', 'target'), path.join(tc, 'linkfar'));
  fs.symlinkSync(path.join(tc, 'plain'), path.join(tc, 'link'));
  const statusKey = async (spec) => {
    const r = await cli(['status', spec, '--json'], { env });
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout).toolchains[0].key;
  };
  const cases = [
    // [spelling, what realpath(1) says it is]
    [`${tc}/linkfar/../plain`, path.join(dir, 'far', 'away', 'plain')],
    [`${tc}/link/.`, path.join(tc, 'plain')],
    [`${tc}/link/./`, path.join(tc, 'plain')],
  ];
  for (const [spelling, real] of cases) {
    // realpath(3); Node's own fs.realpathSync normalises textually first, as the old code did.
    assert.equal(
      fs.realpathSync.native(spelling),
      fs.realpathSync.native(real),
      `the kernel's view of ${spelling}`,
    );
    const expected = engine.toolchainKey(fs.realpathSync.native(real));
    assert.equal(engine.toolchainKey(spelling), expected, spelling);
    assert.equal(await statusKey(spelling), expected, `status ${spelling}`);
    assert.equal(pythonKey(spelling), expected, `python ${spelling}`);
  }
  // The link named as itself (a trailing separator as shells complete it too) stays the link.
  for (const spelling of [`${tc}/link`, `${tc}/link/`]) {
    assert.equal(engine.toolchainKey(spelling), engine.toolchainKey(path.join(tc, 'link')));
    assert.notEqual(
      engine.toolchainKey(spelling),
      engine.toolchainKey(path.join(tc, 'plain')),
      spelling,
    );
    assert.equal(pythonKey(spelling), engine.toolchainKey(spelling), `python ${spelling}`);
  }
});

test(
  'a toolchain path that is not valid UTF-8 is refused (two such names would share a key)',
  { skip: process.platform !== 'linux' && 'Linux file names are bytes' },
  async (t) => {
    const { dir, env } = sandbox(t);
    for (const byte of [0xff, 0xfe])
      fs.mkdirSync(Buffer.concat([Buffer.from(`${dir}/bad`), Buffer.from([byte])]));
    const bad = fs.readdirSync(dir).filter((n) => n.startsWith('bad'));
    assert.deepEqual(bad, ['bad\uFFFD', 'bad\uFFFD'], 'Node names both alike');
    const r = await cli(['status', path.join(dir, bad[0]), '--json'], { env });
    assert.equal(r.code, 78, r.stdout);
    assert.match(r.stderr, /is not valid UTF-8/);
  },
);
