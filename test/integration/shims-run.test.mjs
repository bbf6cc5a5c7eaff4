// Plain `rustc`, `cargo` and `rustup` through the shims, with the machine's real rustup and
// toolchains (read-only) in a private world: which lock each call takes, nested calls, exit
// statuses, signals, the terminal, waiting, and bad input.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  BLOCKED_MS,
  settlesWithin,
  startProcess,
  statusOf,
  until,
} from '../fixtures/cli-harness.mjs';
import { full, machineRustup, shimWorld } from '../fixtures/shim-world.mjs';

const skipNoRustup = (t) => {
  if (machineRustup() !== null) return false;
  t.skip('skipped: no rustup');
  return true;
};

/** The toolchains whose lock is taken, with their state. */
async function heldLocks(env) {
  return (await statusOf(env)).toolchains
    .filter((s) => s.state !== 'free')
    .map((s) => `${s.name} ${s.state}`);
}

/**
 * `rustc -` compiles what it reads on stdin: it holds its lock until we close stdin. Its output
 * goes to a file of ours, never `-o /dev/null`: rustc writes a temporary file and renames it over
 * the output path, which for root replaces the device with a regular file for the whole machine.
 */
const RUSTC_STDIN = [
  '-',
  '--crate-name',
  'probe',
  '--crate-type',
  'lib',
  '--emit=metadata',
  '-o',
  path.join(os.tmpdir(), `tl-shims-probe-${process.pid}.rmeta`),
];

// The machine's /dev/null is still the device after these tests (it once was not: see RUSTC_STDIN).
after(() =>
  assert.ok(fs.statSync('/dev/null').isCharacterDevice(), '/dev/null is still a character device'),
);

test('a proxy runs under the read lock of the toolchain rustup picks: default, +toolchain, RUSTUP_TOOLCHAIN, override, both toolchain files', async (t) => {
  if (skipNoRustup(t)) return;
  const w = shimWorld(t);
  await w.install();
  const project = (name, file, text) => {
    const dir = path.join(w.dir, name);
    fs.mkdirSync(dir, { recursive: true });
    if (file) fs.writeFileSync(path.join(dir, file), text);
    return dir;
  };
  const overridden = project('overridden');
  fs.appendFileSync(
    path.join(w.rustupHome, 'settings.toml'),
    `\n[overrides]\n${JSON.stringify(overridden)} = "${full('nightly')}"\n`,
  );
  const cases = [
    ['default', [], w.dir, {}, full('stable')],
    ['+toolchain', ['+nightly'], w.dir, {}, full('nightly')],
    ['RUSTUP_TOOLCHAIN', [], w.dir, { RUSTUP_TOOLCHAIN: 'nightly' }, full('nightly')],
    ['override', [], overridden, {}, full('nightly')],
    [
      'rust-toolchain.toml',
      [],
      project('toml', 'rust-toolchain.toml', '[toolchain]\nchannel = "nightly"\n'),
      {},
      full('nightly'),
    ],
    ['rust-toolchain', [], project('legacy', 'rust-toolchain', 'nightly\n'), {}, full('nightly')],
  ];
  for (const [source, plus, cwd, extra, expected] of cases) {
    const env = { ...w.env, ...extra };
    const rustc = w.start(['rustc', ...plus, ...RUSTC_STDIN], { cwd, env });
    // rustc is running (its proxy started it) once the shim's record lists a child.
    await until(
      async () =>
        (await statusOf(env)).toolchains.some((s) => s.holders.some((h) => h.children?.length > 0)),
      `${source}: rustc running`,
    );
    assert.deepEqual(await heldLocks(env), [`${expected} read`], source);
    rustc.child.stdin.end();
    const r = await rustc.result();
    assert.equal(r.code, 0, `${source}: ${r.stderr}`);
    // What really ran is what was locked.
    const sysroot = await w.start(['rustc', ...plus, '--print', 'sysroot'], { cwd, env }).result();
    assert.equal(path.basename(sysroot.stdout.trim()), expected, source);
    assert.deepEqual(await heldLocks(env), [], `${source}: released`);
  }
});

test("exit statuses and output are the real program's; SIGTERM reaches it and kills the shim the same way", async (t) => {
  if (skipNoRustup(t)) return;
  const w = shimWorld(t);
  await w.install();
  const plain = { ...w.env, PATH: [w.cargoBin, ...w.system].join(':') };
  for (const argv of [
    ['rustc', '--version'],
    ['cargo', '--version'],
    ['rustc', '--no-such-flag'],
    ['cargo', 'no-such-command'],
    ['rustup', '--version'],
  ]) {
    const viaShim = await w.start(argv).result();
    const direct = await w.start(argv, { env: plain }).result();
    assert.deepEqual(
      { code: viaShim.code, signal: viaShim.signal, stdout: viaShim.stdout },
      { code: direct.code, signal: direct.signal, stdout: direct.stdout },
      argv.join(' '),
    );
    assert.equal(viaShim.stderr, direct.stderr, argv.join(' '));
  }
  const rustc = w.start(['rustc', ...RUSTC_STDIN]);
  await until(
    async () =>
      (await statusOf(w.env)).toolchains.some((s) => s.holders.some((h) => h.children?.length > 0)),
    'rustc running',
  );
  rustc.kill('SIGTERM');
  const r = await rustc.result();
  assert.deepEqual({ code: r.code, signal: r.signal }, { code: null, signal: 'SIGTERM' });
  assert.deepEqual(await heldLocks(w.env), []);
});

test('Ctrl-C to the process group reaches the program once (the shim does not send a second one)', async (t) => {
  if (skipNoRustup(t)) return;
  const w = shimWorld(t);
  await w.install();
  // `rustup run stable sh -c …` through the rustup shim: the program is a shell that counts SIGINTs.
  const counter = 'trap "echo INT" INT; echo ready; read line; read line; echo done';
  const p = w.start(['rustup', 'run', 'stable', 'sh', '-c', counter], { detached: true });
  await p.waitFor('stdout', /ready/);
  assert.deepEqual(await heldLocks(w.env), [`${full('stable')} read`]);
  // SIGINT to the shim alone is not passed on: a terminal sends Ctrl-C to the whole group, the
  // program included, and a copy from the shim would make two. (Both at once coalesce, so this is
  // what tells them apart.)
  process.kill(p.pid, 'SIGINT');
  assert.equal(
    await settlesWithin(p.waitFor('stdout', /INT/), BLOCKED_MS),
    false,
    'the shim passed SIGINT on',
  );
  process.kill(-p.pid, 'SIGINT');
  await p.waitFor('stdout', /INT/);
  p.send('one');
  p.send('two');
  const r = await p.result();
  assert.equal(r.stdout, 'ready\nINT\ndone\n');
  assert.equal(r.code, 0);
  assert.deepEqual(await heldLocks(w.env), []);
});

test('cargo run of an interactive program gets the real terminal; Ctrl-C there ends it and the shim with it', async (t) => {
  if (skipNoRustup(t)) return;
  if (!fs.existsSync('/usr/bin/script')) return t.skip('skipped: no script(1) to make a terminal');
  const w = shimWorld(t);
  await w.install();
  const dir = w.project('interactive', {
    main: 'use std::io::{BufRead, IsTerminal};\nfn main() {\n  println!("tty {} {} {}", std::io::stdin().is_terminal(), std::io::stdout().is_terminal(), std::io::stderr().is_terminal());\n  let mut lines = std::io::stdin().lock().lines();\n  println!("got {}", lines.next().unwrap().unwrap());\n  println!("got {}", lines.next().unwrap().unwrap());\n}\n',
  });
  fs.writeFileSync(
    path.join(w.dir, 'run.sh'),
    `trap : INT\ncd ${JSON.stringify(dir)} && cargo run -q; echo "status $?"\n`,
  );
  // script(1) runs the command on a new pseudo-terminal and copies our stdin to it. The shell
  // around cargo catches SIGINT (children still get it) to tell how cargo ended.
  const p = startProcess(['script', '-qec', `sh ${path.join(w.dir, 'run.sh')}`, '/dev/null'], {
    env: { ...w.env, CARGO_TARGET_DIR: path.join(w.dir, 'target') },
    cwd: w.dir,
  });
  await p.waitFor('stdout', /tty true true true/, 120_000);
  p.child.stdin.write('hello\n');
  await p.waitFor('stdout', /got hello/);
  p.child.stdin.write('\x03');
  const r = await p.result();
  assert.match(r.stdout, /status 130/, r.stdout);
  assert.doesNotMatch(r.stdout, /got .*\n.*got/s);
  assert.deepEqual(await heldLocks(w.env), []);
});

test('nested calls under the lock (cargo -> rustc -> build script -> rustc, cargo) start no Node; another toolchain nested takes its own lock', async (t) => {
  if (skipNoRustup(t)) return;
  const w = shimWorld(t);
  // The shims start a stand-in for Node that counts its starts, then runs the real Node.
  const starts = path.join(w.dir, 'node-starts');
  const counting = path.join(w.dir, 'counting-node');
  fs.writeFileSync(
    counting,
    `#!/bin/sh\necho "$*" >> ${JSON.stringify(starts)}\nexec ${JSON.stringify(process.execPath)} "$@"\n`,
    { mode: 0o755 },
  );
  await w.install();
  for (const f of fs.readdirSync(w.shimDir).filter((n) => !n.startsWith('.'))) {
    const file = path.join(w.shimDir, f);
    fs.writeFileSync(
      file,
      fs.readFileSync(file, 'utf8').replace(/^node=.*$/m, `node='${counting}'`),
    );
  }
  const build = [
    'use std::process::Command;',
    'fn main() {',
    '  let run = |p: &str, a: &[&str]| { let o = Command::new(p).args(a).output().unwrap(); assert!(o.status.success(), "{} failed", p); String::from_utf8(o.stdout).unwrap() };',
    '  let same = run("rustc", &["--version"]) + &run("cargo", &["--version"]);',
    '  let other = run("rustc", &["+nightly", "--version"]);',
    '  let marker = std::env::var("TOOLCHAIN_LOCK_SHIM_TOOLCHAIN").unwrap_or_default();',
    '  std::fs::write(std::path::Path::new(&std::env::var("OUT_DIR").unwrap()).join("../../../../nested.txt"), format!("{}{}{}\\n", same, other, marker)).unwrap();',
    '}',
  ].join('\n');
  const dir = w.project('nested', { build });
  const r = await w
    .start(['cargo', 'build', '-q'], {
      cwd: dir,
      env: { ...w.env, CARGO_TARGET_DIR: path.join(w.dir, 'target') },
    })
    .result(180_000);
  assert.equal(r.code, 0, r.stderr);
  const nested = fs.readFileSync(path.join(w.dir, 'target', 'nested.txt'), 'utf8');
  assert.match(
    nested,
    /^rustc 1\.\d+\.\d+ .*\ncargo 1\.\d+\.\d+ .*\nrustc 1\.\d+\.\d+-nightly .*\n/,
  );
  assert.ok(nested.trim().endsWith(path.join(w.rustupHome, 'toolchains', full('stable'))), nested);
  // One Node for the outer cargo, one for the nested call of another toolchain; none for the rest.
  const lines = fs.readFileSync(starts, 'utf8').trim().split('\n');
  assert.deepEqual(
    lines.map((l) => l.split(' -- ')[1]),
    ['cargo build -q', 'rustc +nightly --version'],
  );
  assert.deepEqual(await heldLocks(w.env), []);
});
