// Benchmark rows for the shims (issue 16), on the real-rustup test bed (test/fixtures/rustup-testbed.mjs):
// a proxy call through a shim against the plain proxy and a bare `node -e 0`, a nested call under a
// held read lock, `toolchain-lock rustup update` against a plain `rustup update`, and rustup#988:
// the same update-while-building loop with and without the shims, failures counted.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { rustupSource, rustupTestbed } from '../test/fixtures/rustup-testbed.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const CLI = path.join(here, '..', 'dist', 'cli.js');
const engine = createRequire(import.meta.url)('../dist/lock.js');

/** Runs argv to its end; resolves with its status, output and wall time in ms. */
function run(argv, { env, cwd }) {
  return new Promise((resolve) => {
    const start = process.hrtime.bigint();
    const child = spawn(argv[0], argv.slice(1), { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', (err) => resolve({ code: 127, stdout, stderr: String(err), ms: 0 }));
    child.on('close', (code, signal) =>
      resolve({ code, signal, stdout, stderr, ms: Number(process.hrtime.bigint() - start) / 1e6 }),
    );
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Medians of several commands measured round-robin, so a slow moment of the machine hits them alike. */
async function sideBySide(commands, n, opts) {
  const samples = commands.map(() => []);
  for (let i = 0; i < n; i++) {
    for (const [k, argv] of commands.entries()) {
      const r = await run(argv, opts[k] ?? opts[0]);
      if (r.code !== 0) throw new Error(`${argv.join(' ')} failed (${r.code}): ${r.stderr}`);
      samples[k].push(r.ms);
    }
  }
  return samples.map(median);
}

/** The loop of rustup#988: plain rustc --version and cargo build until the update ends; failures counted. */
async function loop988(bed, env, crate, publish) {
  bed.publish(publish);
  let updating = true;
  const calls = [];
  const worker = async (i, argv, extra = {}) => {
    await new Promise((r) => setTimeout(r, i * 700));
    while (updating) {
      if (argv[0] === 'cargo')
        fs.utimesSync(path.join(crate, 'src', 'main.rs'), new Date(), new Date());
      const r = await run(argv, { env: { ...env, ...extra }, cwd: crate });
      calls.push({
        program: argv[0],
        ok: r.code === 0,
        error: r.stderr.split('\n').find((l) => /error/i.test(l)) ?? r.stderr.trim().split('\n')[0],
      });
    }
  };
  const workers = [0, 1, 2]
    .map((i) => worker(i, ['rustc', '--version']))
    .concat(
      [0, 1].map((i) =>
        worker(i, ['cargo', 'build', '-q'], { CARGO_TARGET_DIR: path.join(crate, `target-${i}`) }),
      ),
    );
  const update = await run(['rustup', 'update', 'stable'], { env, cwd: crate });
  updating = false;
  await Promise.all(workers);
  const count = (p) => {
    const mine = calls.filter((c) => c.program === p);
    return {
      n: mine.length,
      failed: mine.filter((c) => !c.ok).length,
      sample: mine.find((c) => !c.ok)?.error,
    };
  };
  return { update: update.code, rustc: count('rustc'), cargo: count('cargo') };
}

/**
 * For --quick, which CI runs: no test bed to build, only the machine's rustup and toolchains, read
 * (a private CARGO_HOME linking its rustup, a private RUSTUP_HOME linking its toolchains).
 */
function lightBed() {
  const src = rustupSource();
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'tl-bench-shims-')));
  const bin = path.join(root, 'cargo-home', 'bin');
  const rustupHome = path.join(root, 'rustup-home');
  fs.mkdirSync(bin, { recursive: true });
  fs.mkdirSync(path.join(rustupHome, 'toolchains'), { recursive: true });
  const realBin = path.join(src.cargoHome, 'bin');
  for (const name of fs.readdirSync(realBin))
    fs.symlinkSync(path.join(realBin, name), path.join(bin, name));
  const toolchains = fs.readdirSync(path.join(src.rustupHome, 'toolchains'));
  for (const tc of toolchains)
    fs.symlinkSync(
      path.join(src.rustupHome, 'toolchains', tc),
      path.join(rustupHome, 'toolchains', tc),
    );
  const stable = toolchains.find((tc) => tc.startsWith('stable-')) ?? toolchains[0];
  fs.writeFileSync(
    path.join(rustupHome, 'settings.toml'),
    `version = "12"\ndefault_toolchain = "${stable}"\n`,
  );
  const { RUSTUP_TOOLCHAIN, ...inherited } = process.env;
  const env = {
    ...inherited,
    CARGO_HOME: path.join(root, 'cargo-home'),
    RUSTUP_HOME: rustupHome,
    PATH: [
      bin,
      ...(process.env.PATH ?? '').split(path.delimiter).filter((d) => d !== realBin),
    ].join(path.delimiter),
  };
  return {
    root,
    bin,
    env,
    rustupHome,
    toolchainName: () => stable,
    toolchainDir: () => path.join(rustupHome, 'toolchains', stable),
    cleanup: () => fs.rmSync(root, { recursive: true, force: true }),
  };
}

/** Measures every row; returns the lines to print (the caller prints them in its table). */
export async function shimRows({ quick }) {
  if (rustupSource() === null) return ['shims: skipped: no rustup'];
  const bed = quick ? lightBed() : await rustupTestbed({ releases: 11 });
  try {
    const lockDir = path.join(bed.root, 'locks');
    const shimDir = path.join(bed.root, 'shims');
    const plainEnv = { ...bed.env, TOOLCHAIN_LOCK_DIR: lockDir };
    const installed = await run([process.execPath, CLI, 'shims', 'install', '--dir', shimDir], {
      env: plainEnv,
      cwd: bed.root,
    });
    if (installed.code !== 0) throw new Error(`shims install: ${installed.stderr}`);
    const shimEnv = { ...plainEnv, PATH: `${shimDir}${path.delimiter}${plainEnv.PATH}` };
    const opts = { env: plainEnv, cwd: bed.root };
    const n = quick ? 7 : 30;
    const lines = [];
    const row = (label, value) => lines.push(`  ${label.padEnd(58)} | ${value}`);

    const [proxy, shim, node] = await sideBySide(
      [
        [path.join(bed.bin, 'cargo'), '--version'],
        [path.join(shimDir, 'cargo'), '--version'],
        [process.execPath, '-e', '0'],
      ],
      n,
      [opts, { ...opts, env: shimEnv }, opts],
    );
    lines.push(`cargo --version (median of ${n}, round-robin)`);
    row('plain rustup proxy', `${proxy.toFixed(1)} ms`);
    row('through the shim (sh, Node, read lock, proxy)', `${shim.toFixed(1)} ms`);
    row('node -e 0', `${node.toFixed(1)} ms`);
    row(
      'shim − proxy, against node -e 0 (goal ≤ 1.5×)',
      `${(shim - proxy).toFixed(1)} ms = ${((shim - proxy) / node).toFixed(2)} × node -e 0`,
    );

    // A nested call: this process holds stable's read lock and passes the markers a shim sets.
    const stable = { name: bed.toolchainName('stable'), path: bed.toolchainDir('stable') };
    const lock = await engine.acquireRead(stable, { lockDir });
    const nestedEnv = {
      ...shimEnv,
      ...lock.childEnv(),
      RUSTUP_HOME: bed.rustupHome,
      RUSTUP_TOOLCHAIN: stable.name,
      TOOLCHAIN_LOCK_SHIM_TOOLCHAIN: path.join(bed.rustupHome, 'toolchains', stable.name),
    };
    const [plainRustc, nestedRustc] = await sideBySide(
      [
        [path.join(bed.bin, 'rustc'), '--version'],
        [path.join(shimDir, 'rustc'), '--version'],
      ],
      n,
      [opts, { ...opts, env: nestedEnv }],
    );
    await lock.release();
    lines.push(`nested rustc --version under a held read lock (median of ${n})`);
    row('plain rustup proxy', `${plainRustc.toFixed(1)} ms`);
    row('through the shim, nested (sh only)', `${nestedRustc.toFixed(1)} ms`);
    row(
      'difference (goal ≤ +5 ms)',
      `${nestedRustc - plainRustc >= 0 ? '+' : ''}${(nestedRustc - plainRustc).toFixed(1)} ms`,
    );

    if (quick) {
      lines.push(
        'rustup update stable, and the rustup#988 loop with and without shims: not in --quick (a real update takes seconds)',
      );
      return lines;
    }
    const updates = { plain: [], wrapped: [] };
    let release = 2;
    for (let i = 0; i < 4; i++) {
      for (const kind of i % 2 === 0 ? ['plain', 'wrapped'] : ['wrapped', 'plain']) {
        bed.publish(release++);
        const argv =
          kind === 'plain'
            ? [path.join(bed.bin, 'rustup'), 'update', 'stable']
            : [process.execPath, CLI, 'rustup', 'update', 'stable'];
        const r = await run(argv, opts);
        if (r.code !== 0 || !/updated/.test(r.stdout + r.stderr))
          throw new Error(`${argv.join(' ')}: ${r.stderr}`);
        updates[kind].push(r.ms);
      }
    }
    const [up, uw] = [median(updates.plain), median(updates.wrapped)];
    lines.push(
      'rustup update stable on the test bed (a real reinstall; median of 4 each, alternating)',
    );
    row('plain rustup update stable', `${(up / 1000).toFixed(2)} s`);
    row('toolchain-lock rustup update stable', `${(uw / 1000).toFixed(2)} s`);
    row('difference (goal ≤ +5%)', `${(((uw - up) / up) * 100).toFixed(1)}%`);

    const crate = path.join(bed.root, 'crate');
    fs.mkdirSync(path.join(crate, 'src'), { recursive: true });
    fs.writeFileSync(
      path.join(crate, 'Cargo.toml'),
      '[package]\nname = "loop"\nversion = "0.1.0"\nedition = "2021"\n',
    );
    fs.writeFileSync(path.join(crate, 'src', 'main.rs'), 'fn main() {}\n');
    for (const i of [0, 1])
      await run(['cargo', 'build', '-q'], {
        env: { ...plainEnv, CARGO_TARGET_DIR: path.join(crate, `target-${i}`) },
        cwd: crate,
      });
    lines.push(
      'rustup#988: plain rustup update stable while plain rustc --version (3 loops) and cargo build (2 loops) run',
    );
    // The shims first: the control's update may leave the toolchain broken (rustup#988), and the next update repairs it.
    for (const [label, env] of [
      ['with the shims', shimEnv],
      ['without shims (the control)', plainEnv],
    ]) {
      const r = await loop988(bed, env, crate, release++);
      const say = (c) =>
        `${c.failed} of ${c.n} failed${c.sample ? ` (${c.sample.slice(0, 60)})` : ''}`;
      row(`${label}: rustc --version`, say(r.rustc));
      row(`${label}: cargo build`, say(r.cargo));
      if (r.update !== 0) row(`${label}: the update itself`, `exit ${r.update}`);
    }
    return lines;
  } finally {
    bed.cleanup();
  }
}
