// npm run bench: the engine against raw fs-ext flock and proper-lockfile, and the shims against
// plain rustup (bench/shims.mjs), in one run, on this machine. Prints a table; asserts nothing (tests assert behaviour, this measures speed).
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { shimRows } from './shims.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 20 : 100;
const KILL_ROUNDS = quick ? 3 : 10;
const IDLE_MS = quick ? 3000 : 10000;
// A fresh Node process spends its first seconds in V8's post-start GC whatever it waits for;
// every implementation settles this long before its idle window is measured.
const SETTLE_MS = quick ? 2000 : 15000;
const DRAIN_N = quick ? [1, 10] : [1, 10, 50];
const POLL_MS = 1000;
const RA_ROUNDS = quick ? 10 : 40;
/** How long the rust-analyzer stand-in's server takes to shut down. */
const RA_SHUTDOWN_MS = 100;

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tcl-bench-'));
process.on('exit', () => fs.rmSync(root, { recursive: true, force: true }));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function party(impl, dir, tc, flags = []) {
  const child = spawn(process.execPath, [path.join(here, 'party.mjs'), impl, dir, tc, ...flags], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const events = [];
  const waiters = [];
  readline.createInterface({ input: child.stdout }).on('line', (line) => {
    const ev = JSON.parse(line);
    ev.t = BigInt(ev.t);
    events.push(ev);
    for (const w of [...waiters])
      if (w.name === ev.ev && events.indexOf(ev) >= w.from) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(ev);
      }
  });
  return {
    child,
    mark: () => events.length,
    next(name, from = 0, timeout = 30000) {
      const seen = events.slice(from).find((e) => e.ev === name);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const w = { name, from, resolve };
        waiters.push(w);
        setTimeout(
          () => reject(new Error(`${impl}: no ${name} within ${timeout} ms`)),
          timeout,
        ).unref();
      });
    },
    async cmd(line, answer) {
      const from = events.length;
      child.stdin.write(line + '\n');
      return answer ? this.next(answer, from) : undefined;
    },
    kill() {
      child.kill('SIGKILL');
    },
  };
}

function fresh(name) {
  const dir = path.join(root, name, 'locks');
  const tc = path.join(root, name, 'toolchain');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.mkdirSync(tc, { recursive: true });
  return { dir, tc };
}

const ms = (ns) => Number(ns) / 1e6;
function stats(samplesMs) {
  if (samplesMs.length === 0) return null;
  const s = [...samplesMs].sort((a, b) => a - b);
  const at = (q) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  return { median: at(0.5), p99: at(0.99), n: s.length };
}
const fmt = (st) => (st ? `${st.median.toFixed(2)} / ${st.p99.toFixed(2)} ms (n=${st.n})` : 'n/a');

async function uncontended(impl) {
  const { dir, tc } = fresh(`${impl}-u`);
  const p = party(impl, dir, tc);
  await p.next('ready');
  const mode = impl === 'proper' ? 'write' : 'read';
  const ev = await p.cmd(`uncontended ${mode} ${ROUNDS * 5}`, 'uncontended');
  p.kill();
  return stats(ev.samples.slice(10).map((n) => n / 1e6));
}

async function handoff(impl) {
  const { dir, tc } = fresh(`${impl}-h`);
  const a = party(impl, dir, tc);
  const b = party(impl, dir, tc);
  await Promise.all([a.next('ready'), b.next('ready')]);
  const holderMode = impl === 'proper' ? 'write' : 'read';
  const samples = [];
  for (let i = 0; i < ROUNDS; i++) {
    await a.cmd(holderMode, 'acquired');
    const from = b.mark();
    b.cmd('write');
    await b.next('waiting', from);
    await sleep(5);
    const rel = await a.cmd('release', 'releasing');
    const acq = await b.next('acquired', from);
    samples.push(ms(acq.t - rel.t));
    await b.cmd('release', 'released');
  }
  a.kill();
  b.kill();
  return stats(samples);
}

async function killHandoff(impl) {
  const { dir, tc } = fresh(`${impl}-k`);
  const rounds = impl === 'proper' ? Math.min(KILL_ROUNDS, 3) : KILL_ROUNDS;
  const samples = [];
  for (let i = 0; i < rounds; i++) {
    const victim = party(impl, dir, tc);
    const waiter = party(impl, dir, tc, ['--poll', String(POLL_MS)]);
    await Promise.all([victim.next('ready'), waiter.next('ready')]);
    await victim.cmd(impl === 'proper' ? 'write' : 'read', 'acquired');
    waiter.cmd('write');
    await waiter.next('waiting');
    await sleep(Math.random() * 200);
    const killedAt = process.hrtime.bigint();
    victim.kill();
    const acq = await waiter.next('acquired');
    samples.push(ms(acq.t - killedAt));
    waiter.kill();
  }
  return stats(samples);
}

/** Wall-clock milliseconds with sub-millisecond precision, comparable with `date +%s%N` in a child. */
const wallMs = () => performance.timeOrigin + performance.now();

/** Resolves with the first line of a stream that matches `pattern`. */
function lineMatching(stream, pattern, timeoutMs = 30000) {
  return new Promise((resolve, reject) => {
    const rl = readline.createInterface({ input: stream });
    const timer = setTimeout(
      () => reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    timer.unref();
    rl.on('line', (line) => {
      if (!pattern.test(line)) return;
      clearTimeout(timer);
      rl.close();
      resolve(line);
    });
  });
}

const CLI = path.join(here, '..', 'dist', 'cli.js');
// The holder prints once it holds the lock, then sleeps; the waiter's command prints the time it got it.
const HOLD = ['sh', '-c', 'echo holding; exec sleep 1000'];
const STAMP = ['date', '+%s%N'];

/**
 * A `run` (or `flock -s`) holder whose whole process group is SIGKILLed while `update` (or
 * `flock -x`) waits: killed → the waiter's command runs, as a user of each tool sees it.
 */
async function cliKillHandoff(tool) {
  const { dir, tc } = fresh(`cli-${tool}`);
  const env = {
    ...process.env,
    TOOLCHAIN_LOCK_DIR: dir,
    TOOLCHAIN_LOCK_HELD: '',
    TOOLCHAIN_LOCK_WRITING: '',
  };
  const lockFile = path.join(dir, 'flock1.lock');
  const samples = [];
  for (let i = 0; i < KILL_ROUNDS; i++) {
    const holderArgv =
      tool === 'cli'
        ? [process.execPath, CLI, 'run', tc, '--', ...HOLD]
        : ['flock', '-s', lockFile, ...HOLD];
    const holder = spawn(holderArgv[0], holderArgv.slice(1), {
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    await lineMatching(holder.stdout, /^holding$/);
    const waiterArgv =
      tool === 'cli'
        ? [process.execPath, CLI, 'update', tc, '--', ...STAMP]
        : ['flock', '-x', lockFile, ...STAMP];
    const waiter = spawn(waiterArgv[0], waiterArgv.slice(1), {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stamp = lineMatching(waiter.stdout, /^\d+$/);
    // The CLI says when it starts waiting; flock(1) says nothing, so it gets time to block.
    if (tool === 'cli') await lineMatching(waiter.stderr, /waiting for the write lock/);
    else await sleep(150);
    await sleep(Math.random() * 200);
    const killedAt = wallMs();
    process.kill(-holder.pid, 'SIGKILL');
    const got = Number(BigInt(await stamp) / 1000n) / 1000;
    samples.push(got - killedAt);
    await new Promise((r) => (waiter.exitCode !== null ? r() : waiter.once('exit', r)));
  }
  return stats(samples);
}

async function notification() {
  const { dir, tc } = fresh('engine-n');
  const reader = party('engine', dir, tc);
  const writer = party('engine', dir, tc);
  await Promise.all([reader.next('ready'), writer.next('ready')]);
  const samples = [];
  for (let i = 0; i < ROUNDS; i++) {
    await reader.cmd('read', 'acquired');
    const from = reader.mark();
    const wFrom = writer.mark();
    writer.cmd('write');
    const announced = await writer.next('announcing', wFrom);
    const noticed = await reader.next('pending', from);
    samples.push(ms(noticed.t - announced.t));
    await reader.cmd('release', 'released');
    await writer.next('acquired', wFrom);
    await writer.cmd('release', 'released');
  }
  reader.kill();
  writer.kill();
  return stats(samples);
}

async function drain(n) {
  const { dir, tc } = fresh(`engine-d${n}`);
  const readers = Array.from({ length: n }, () => party('engine', dir, tc, ['--auto-release']));
  const writer = party('engine', dir, tc);
  await Promise.all([...readers, writer].map((p) => p.next('ready')));
  const whole = [];
  const tail = [];
  const rounds = Math.max(5, Math.floor(ROUNDS / Math.max(1, n / 5)));
  for (let i = 0; i < rounds; i++) {
    const marks = readers.map((r) => r.mark());
    await Promise.all(readers.map((r) => r.cmd('read', 'acquired')));
    const wFrom = writer.mark();
    writer.cmd('write');
    const announced = await writer.next('announcing', wFrom);
    const acq = await writer.next('acquired', wFrom);
    const releases = await Promise.all(readers.map((r, k) => r.next('releasing', marks[k])));
    const lastRelease = releases.reduce((m, e) => (e.t > m ? e.t : m), 0n);
    whole.push(ms(acq.t - announced.t));
    tail.push(ms(acq.t - lastRelease));
    await writer.cmd('release', 'released');
  }
  for (const p of [...readers, writer]) p.kill();
  return { whole: stats(whole), tail: stats(tail) };
}

/**
 * The drain's tail for fs-ext, which has no notion of a pending writer: the benchmark tells its N
 * readers to release as soon as the writer is blocked, so "last release → writer holds" measures
 * the same wake-up on the same machine, without any notification before it.
 */
async function drainPeer(n) {
  const { dir, tc } = fresh(`fsext-d${n}`);
  const readers = Array.from({ length: n }, () => party('fsext', dir, tc));
  const writer = party('fsext', dir, tc);
  await Promise.all([...readers, writer].map((p) => p.next('ready')));
  const tail = [];
  const rounds = Math.max(5, Math.floor(ROUNDS / Math.max(1, n / 5)));
  for (let i = 0; i < rounds; i++) {
    await Promise.all(readers.map((r) => r.cmd('read', 'acquired')));
    const wFrom = writer.mark();
    writer.cmd('write');
    await writer.next('waiting', wFrom);
    const releases = await Promise.all(readers.map((r) => r.cmd('release', 'releasing')));
    const acq = await writer.next('acquired', wFrom);
    const lastRelease = releases.reduce((m, e) => (e.t > m ? e.t : m), 0n);
    tail.push(ms(acq.t - lastRelease));
    await writer.cmd('release', 'released');
  }
  for (const p of [...readers, writer]) p.kill();
  return stats(tail);
}

async function idleCpu(impl) {
  const { dir, tc } = fresh(`${impl}-c`);
  const holder = party(impl, dir, tc);
  const waiter = party(impl, dir, tc);
  await Promise.all([holder.next('ready'), waiter.next('ready')]);
  await holder.cmd(impl === 'proper' ? 'write' : 'read', 'acquired');
  waiter.cmd('write');
  await waiter.next('waiting');
  await sleep(SETTLE_MS);
  const before = await waiter.cmd('cpu', 'cpu');
  await sleep(IDLE_MS);
  const after = await waiter.cmd('cpu', 'cpu');
  holder.kill();
  waiter.kill();
  // The cpu command itself costs a little; it is the same for every implementation.
  return (after.user + after.system - before.user - before.system) / 1000;
}

/**
 * An update beside a window whose rust-analyzer (the stand-in: its server runs a real
 * rust-analyzer-proc-macro-srv and takes RA_SHUTDOWN_MS to shut down) must stop first: writer
 * announces → writer holds, i.e. when its command would start. The window's own log says how long
 * the stop took (stop command → server and proc-macro server gone).
 */
async function coordinatedStop() {
  const window = spawn(
    process.execPath,
    [path.join(here, 'ra-window.mjs'), path.join(root, 'ra-window'), String(RA_SHUTDOWN_MS)],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const lines = [];
  let ready;
  const readyP = new Promise((resolve) => (ready = resolve));
  readline.createInterface({ input: window.stdout }).on('line', (l) => {
    const ev = JSON.parse(l);
    if (ev.ev === 'ready') ready(ev);
    else lines.push(ev.line);
  });
  const until = async (pred, what) => {
    const end = Date.now() + 60_000;
    while (!pred()) {
      if (Date.now() > end) throw new Error(`bench: no ${what}; window log:\n${lines.join('\n')}`);
      await sleep(5);
    }
  };
  const { lockDir, toolchain } = await readyP;
  const writer = party('engine', lockDir, toolchain);
  await writer.next('ready');
  const matching = (re) => lines.map((l) => re.exec(l)).filter(Boolean);
  const whole = [];
  const stops = [];
  const own = [];
  const beyond = [];
  for (let i = 0; i < RA_ROUNDS; i++) {
    await until(() => matching(/server rust-analyzer started/).length === i + 1, 'server start');
    const wFrom = writer.mark();
    writer.cmd('write');
    const announced = await writer.next('announcing', wFrom);
    const acquired = await writer.next('acquired', wFrom);
    whole.push(ms(acquired.t - announced.t));
    await until(
      () => matching(/server rust-analyzer stopped in (\d+) ms/).length === i + 1,
      'stop line',
    );
    stops.push(Number(matching(/server rust-analyzer stopped in (\d+) ms/)[i][1]));
    await until(
      () => matching(/server exited .* ([\d.]+) ms after shutdown/).length === i + 1,
      "the stand-in's shutdown time",
    );
    own.push(Number(matching(/server exited .* ([\d.]+) ms after shutdown/)[i][1]));
    beyond.push(whole[i] - own[i]);
    await writer.cmd('release', 'released');
  }
  writer.kill();
  window.stdin.end();
  await new Promise((r) => (window.exitCode !== null ? r() : window.once('exit', r)));
  return { whole: stats(whole), stops: stats(stops), own: stats(own), beyond: stats(beyond) };
}

const impls = [
  ['engine', 'toolchain-lock engine (try-lock + kernel close events, records, gate)'],
  ['fsext', 'fs-ext blocking flock (thread pool), no records'],
  ['proper', 'proper-lockfile (mkdir, retries 1-50 ms, stale 2 s)'],
];

const rows = [];
for (const [impl, label] of impls) {
  process.stderr.write(`measuring ${impl}…\n`);
  rows.push({
    label,
    uncontended: await uncontended(impl),
    handoff: await handoff(impl),
    kill: await killHandoff(impl),
    idle: await idleCpu(impl),
  });
}
process.stderr.write('measuring SIGKILL hand-off through the CLI and flock(1)…\n');
const cliKill = { cli: await cliKillHandoff('cli'), flock1: await cliKillHandoff('flock1') };
process.stderr.write('measuring notification and drain…\n');
const note = await notification();
const drains = [];
for (const n of DRAIN_N) drains.push([n, await drain(n), await drainPeer(n)]);
process.stderr.write('measuring the shims on the rustup test bed…\n');
const shimLines = await shimRows({ quick });

process.stderr.write('measuring an update beside a window running rust-analyzer…\n');
const ra = await coordinatedStop();

const line = (cells, widths) => cells.map((c, i) => String(c).padEnd(widths[i])).join(' | ');
const widths = [58, 26];
console.log(
  `\nToolchain Lock benchmark — ${os.cpus().length} cores, ${os.type()} ${os.release()}, Node ${process.version}, lock dir on ${root}`,
);
console.log(
  `median / p99; hand-off = holder releases → waiting writer holds; poll interval ${POLL_MS} ms where a party polls\n`,
);
for (const [title, pick] of [
  ['uncontended acquire+release (read; proper: exclusive)', (r) => fmt(r.uncontended)],
  ['hand-off latency', (r) => fmt(r.handoff)],
  ['hand-off after the holder was SIGKILLed', (r) => fmt(r.kill)],
  [
    `CPU of an idle waiting party over ${IDLE_MS / 1000} s (after ${SETTLE_MS / 1000} s to settle)`,
    (r) => `${r.idle.toFixed(1)} ms`,
  ],
]) {
  console.log(title);
  for (const r of rows) console.log('  ' + line([r.label, pick(r)], widths));
}
console.log(
  "hand-off after SIGKILL of a holder's process group, as a user runs it (killed → waiting command runs)",
);
console.log(
  '  ' + line(['toolchain-lock run … / toolchain-lock update … -- CMD', fmt(cliKill.cli)], widths),
);
console.log(
  '  ' +
    line(
      ['flock -s FILE … / flock -x FILE CMD (util-linux flock(1))', fmt(cliKill.flock1)],
      widths,
    ),
);
console.log(
  '  ' +
    line(
      ['ratio (median)', `${(cliKill.cli.median / cliKill.flock1.median).toFixed(1)} × flock(1)`],
      widths,
    ),
);
console.log('pending-writer notification (writer announces → reader callback)');
console.log('  ' + line([impls[0][1], fmt(note)], widths));
console.log('  ' + line(['peers: no notion of a pending writer', 'n/a'], widths));
console.log(
  'readers drain (N readers release on the notice; announce → writer holds | last release → writer holds)',
);
for (const [n, d, peer] of drains) {
  console.log('  ' + line([`N = ${n}`, `${fmt(d.whole)} | ${fmt(d.tail)}`], [58, 60]));
  console.log(
    '  ' +
      line(
        [`  fs-ext, N = ${n} (told to release by the benchmark)`, `n/a | ${fmt(peer)}`],
        [58, 60],
      ),
  );
}
console.log(
  `update beside one window running rust-analyzer whose server takes ${RA_SHUTDOWN_MS} ms to shut down (writer announces → writer holds, its command starts)`,
);
console.log(
  '  ' +
    line(['toolchain-lock engine + extension (stand-in rust-analyzer)', fmt(ra.whole)], widths),
);
console.log(
  '  ' +
    line(["  its server's own shutdown (asked → it and its child exited)", fmt(ra.own)], widths),
);
console.log(
  '  ' + line(["  the window's stop (stop command → its processes gone)", fmt(ra.stops)], widths),
);
console.log(
  '  ' + line(['  beyond its own shutdown, per round (goal ≤ 50 ms)', fmt(ra.beyond)], widths),
);
console.log(
  `shims: plain cargo, rustc, rustup through toolchain-lock (the machine's real rustup; ${quick ? 'its toolchains, read only' : 'updates on a local test bed'})`,
);
for (const l of shimLines) console.log(l);
process.exit(0);
