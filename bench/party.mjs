// One lock party for the benchmark, steered by lines on stdin and reporting JSON lines with
// process.hrtime.bigint() stamps (CLOCK_MONOTONIC: one clock for every process on the machine).
//   node party.mjs IMPL DIR TOOLCHAIN [--auto-release] [--poll MS]
// IMPL: engine (this project), fsext (raw blocking flock via fs-ext), proper (proper-lockfile).
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';

const require = createRequire(import.meta.url);
const [impl, dir, toolchain, ...flags] = process.argv.slice(2);
const autoRelease = flags.includes('--auto-release');
const pollIndex = flags.indexOf('--poll');
const pollIntervalMs = pollIndex >= 0 ? Number(flags[pollIndex + 1]) : undefined;
const now = () => process.hrtime.bigint().toString();
const say = (ev, extra = {}) =>
  process.stdout.write(JSON.stringify({ ev, t: now(), pid: process.pid, ...extra }) + '\n');

function engineImpl() {
  const engine = require('../dist/lock.js');
  const tc = { name: 'bench', path: toolchain };
  const opts = { lockDir: dir, client: 'bench', pollIntervalMs, onWarning: () => {} };
  return {
    async acquire(mode, onWait) {
      const lock =
        mode === 'write'
          ? await engine.acquireWrite([tc], { ...opts, onWait })
          : await engine.acquireRead(tc, { ...opts, onWait });
      return { release: () => lock.release(), lock };
    },
  };
}

function fsextImpl() {
  const fsext = require('fs-ext');
  const file = path.join(dir, 'fsext.lock');
  return {
    async acquire(mode, onWait) {
      const fd = fs.openSync(file, 'a');
      try {
        fsext.flockSync(fd, mode === 'write' ? 'exnb' : 'shnb');
      } catch {
        onWait?.([]);
        await new Promise((resolve, reject) =>
          fsext.flock(fd, mode === 'write' ? 'ex' : 'sh', (e) => (e ? reject(e) : resolve())),
        );
      }
      return { release: async () => fs.closeSync(fd) };
    },
  };
}

function properImpl() {
  const lockfile = require('proper-lockfile');
  const file = path.join(dir, 'proper.target');
  fs.writeFileSync(file, '');
  // Tuned for hand-off: retry every 1..50 ms instead of the default exponential back-off;
  // stale 2 s (its minimum) so a killed holder is taken over as soon as it allows.
  const options = {
    stale: 2000,
    update: 1000,
    retries: { retries: 100000, factor: 1.5, minTimeout: 1, maxTimeout: 50 },
  };
  return {
    async acquire(_mode, onWait) {
      let release;
      try {
        release = await lockfile.lock(file, { ...options, retries: 0 });
      } catch {
        onWait?.([]);
        release = await lockfile.lock(file, options);
      }
      return { release };
    },
  };
}

const lib = { engine: engineImpl, fsext: fsextImpl, proper: properImpl }[impl]();
let held;

async function acquire(mode) {
  say('announcing', { mode });
  let told = false;
  held = await lib.acquire(mode, () => {
    if (!told) say('waiting');
    told = true;
  });
  say('acquired', { mode });
  if (mode === 'read' && held.lock?.onUpdatePending) {
    const current = held;
    current.lock.onUpdatePending(async () => {
      say('pending');
      if (autoRelease && held === current) await release();
    });
  }
}

async function release() {
  if (!held) return;
  const h = held;
  held = undefined;
  say('releasing');
  await h.release();
  say('released');
}

async function uncontended(mode, n) {
  const samples = [];
  for (let i = 0; i < n; i++) {
    const start = process.hrtime.bigint();
    const h = await lib.acquire(mode);
    await h.release();
    samples.push(Number(process.hrtime.bigint() - start));
  }
  say('uncontended', { samples });
}

readline.createInterface({ input: process.stdin }).on('line', async (line) => {
  const [cmd, a, b] = line.split(' ');
  try {
    if (cmd === 'read' || cmd === 'write') await acquire(cmd);
    else if (cmd === 'release') await release();
    else if (cmd === 'cpu') say('cpu', process.cpuUsage());
    else if (cmd === 'uncontended') await uncontended(a, Number(b));
    else if (cmd === 'exit') process.exit(0);
  } catch (err) {
    say('error', { message: String(err?.message ?? err) });
  }
});
say('ready');
