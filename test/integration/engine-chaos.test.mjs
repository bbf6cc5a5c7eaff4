// Chaos: engine readers and writers, CLI `run` readers, CLI `update` writers and plain flock(1)
// clients (PROTOCOL.md §6) share one toolchain for a bounded time while random ones are SIGKILLed
// at random points. The log checker (lock-log.mjs, whose controls are in lock-log.test.mjs) must
// see no overlap; once everything has exited, no lock may be left held, no record left behind (after `clean`),
// no update lost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fixture, repoRoot, tempDir } from '../helpers.mjs';
import { heldLockFiles, recordFiles, survivors } from './leftovers.mjs';
import { checkLockLog } from './lock-log.mjs';

const SECONDS = Number(process.env.STRESS_SECONDS ?? 20);
const cli = path.join(repoRoot, 'dist', 'cli.js');
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const between = (lo, hi) => Math.round(lo + Math.random() * (hi - lo));
const pick = (list) => list[Math.floor(Math.random() * list.length)];

/**
 * The faults the chaos loop picks from: whom to kill, the whole group or the process alone, and
 * where we would like to catch it (the log says where it really was).
 */
const FAULTS = [
  { kind: 'engine-read', scope: 'process', want: 'waiting' },
  { kind: 'engine-read', scope: 'process', want: 'holding' },
  { kind: 'engine-write', scope: 'process', want: 'waiting' },
  { kind: 'engine-write', scope: 'process', want: 'holding' },
  { kind: 'run', scope: 'process', want: 'waiting' },
  { kind: 'run', scope: 'process', want: 'holding' },
  { kind: 'run', scope: 'group', want: 'holding' },
  { kind: 'update', scope: 'process', want: 'waiting' },
  { kind: 'update', scope: 'process', want: 'holding' },
  { kind: 'update', scope: 'group', want: 'holding' },
  { kind: 'flock-read', scope: 'group', want: 'holding' },
  { kind: 'flock-write', scope: 'group', want: 'any' },
];

test(
  `chaos: SIGKILL of random parties for ${SECONDS} s leaves no overlap, no lock held, no record, no lost update`,
  { timeout: (SECONDS + 240) * 1000 },
  async (t) => {
    const live = new Set();
    const fds = [];
    let stopping = false;
    const token = randomBytes(6).toString('hex');
    // Added before the temporary directory's hook, so it runs first: after a failure, parties still
    // running would write into the directory being removed.
    t.after(async () => {
      stopping = true;
      const targets = [...[...live].map((p) => -p.pid), ...survivors(token)];
      for (const target of targets) {
        try {
          process.kill(target, 'SIGKILL');
        } catch {
          // Gone meanwhile.
        }
      }
      await Promise.all([...live].map((p) => p.exited));
      for (const fd of fds) fs.closeSync(fd);
    });
    const root = tempDir(t, 'tcl-chaos-');
    const dir = path.join(root, 'locks');
    fs.mkdirSync(dir, { mode: 0o700 });
    const tc = path.join(root, 'toolchain');
    fs.mkdirSync(tc);
    const errDir = path.join(root, 'stderr');
    fs.mkdirSync(errDir);
    const logFile = path.join(root, 'log');
    const logFd = fs.openSync(logFile, 'a');
    fds.push(logFd);
    // flock(1) clients lock the files the CLI names, as PROTOCOL.md §6 shows.
    const statusOf = () => {
      const r = spawnSync(process.execPath, [cli, '--lock-dir', dir, 'status', tc, '--json'], {
        encoding: 'utf8',
      });
      assert.equal(r.status, 0, r.stderr);
      return JSON.parse(r.stdout).toolchains[0];
    };
    const { lockFile, gateFile } = statusOf();
    const deadline = Date.now() + SECONDS * 1000;

    const command = (mode, role, ms) => [
      process.execPath,
      fixture('chaos-command.mjs'),
      logFile,
      mode,
      role,
      String(ms),
    ];
    const cliArgs = [process.execPath, cli, '--lock-dir', dir, '--poll-interval', '200'];
    const KINDS = {
      // Holding longer than in the stress test, so that kills land while holding too.
      'engine-read': {
        count: 4,
        argv: () => [
          process.execPath,
          fixture('stress-party.mjs'),
          dir,
          tc,
          'read',
          String(deadline),
          logFile,
          '60',
        ],
      },
      'engine-write': {
        count: 2,
        argv: () => [
          process.execPath,
          fixture('stress-party.mjs'),
          dir,
          tc,
          'write',
          String(deadline),
          logFile,
          '100',
        ],
      },
      run: {
        count: 2,
        argv: () => [
          ...cliArgs,
          'run',
          tc,
          '--purpose',
          'chaos',
          '--',
          ...command('read', 'run', between(10, 80)),
        ],
      },
      update: {
        count: 2,
        argv: () => [
          ...cliArgs,
          'update',
          tc,
          '--',
          ...command('write', 'update', between(50, 250)),
        ],
      },
      'flock-read': {
        count: 1,
        argv: () => ['flock', '-s', lockFile, ...command('read', 'flock-read', between(10, 80))],
      },
      'flock-write': {
        count: 1,
        argv: () => [
          'flock',
          '-x',
          gateFile,
          'flock',
          '-x',
          lockFile,
          ...command('write', 'flock-write', between(30, 150)),
        ],
      },
    };

    const ended = [];
    let seq = 0;
    const spawnParty = (kind, argv = KINDS[kind].argv()) => {
      const id = `p${++seq}`;
      const errFile = path.join(errDir, `${id}-${kind}.txt`);
      const err = fs.openSync(errFile, 'w');
      // Its own process group (and session): a group kill takes the wrapper and its command, and
      // nothing of ours. Output goes to a file: a command outliving its wrapper has no pipe to lose.
      const child = spawn(argv[0], argv.slice(1), {
        detached: true,
        stdio: ['ignore', 'ignore', err],
        env: { ...process.env, CHAOS_PARTY: id, CHAOS_RUN: token },
      });
      fs.closeSync(err);
      const party = { id, kind, pid: child.pid, child, killed: null, exit: null, errFile };
      party.exited = new Promise((resolve) => {
        const end = (exit) => {
          if (party.exit) return;
          party.exit = exit;
          live.delete(party);
          ended.push(party);
          // Load goes on: a party that ends (killed or done) is replaced until the deadline.
          if (!stopping && !exit.error) spawnParty(kind);
          resolve();
        };
        child.once('exit', (code, signal) => end({ code, signal }));
        child.once('error', (e) => end({ code: null, signal: null, error: e.message }));
      });
      live.add(party);
      return party;
    };
    for (const [kind, { count }] of Object.entries(KINDS))
      for (let i = 0; i < count; i++) spawnParty(kind);

    // Where each party is now, from the log read so far: its latest line.
    const latest = new Map();
    const tailFd = fs.openSync(logFile, 'r');
    fds.push(tailFd);
    let tailPos = 0;
    let tailRest = '';
    const readTail = () => {
      const buf = Buffer.alloc(1 << 16);
      for (;;) {
        const n = fs.readSync(tailFd, buf, 0, buf.length, tailPos);
        if (n <= 0) break;
        tailPos += n;
        const lines = (tailRest + buf.subarray(0, n).toString('latin1')).split('\n');
        tailRest = lines.pop();
        for (const line of lines) {
          const [, , , what, party] = line.split(' ');
          if (what !== 'kill') latest.set(party, what);
        }
      }
    };
    const stateOf = (p) => {
      const what = latest.get(p.id);
      if (what === 'acquire') return 'holding';
      if (p.kind.startsWith('engine')) return what === 'want' ? 'waiting' : 'other';
      return what === undefined ? 'waiting' : 'other';
    };
    // What the victim's record says, for a wrapper whose command has not logged yet: waiting, or
    // holding before its command started, or no record yet (starting, or an uncontended first try).
    const recordState = (pid) => {
      for (const name of recordFiles(dir)) {
        try {
          const r = JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8'));
          if (r.pid === pid) return `record-${r.state}`;
        } catch {
          // Removed or being replaced meanwhile: it says nothing about this victim.
        }
      }
      return 'no-record';
    };
    const kill = (p, scope) => {
      // Written before the signal: from this line on the checker counts the victim as released,
      // and the kernel releases it later (when it dies), never earlier.
      fs.writeSync(
        logFd,
        `${process.hrtime.bigint()} ${p.pid} ${p.kind} kill ${p.id} ${scope} ${recordState(p.pid)}\n`,
      );
      // The exit event has not run (p is live), so the pid is still this party's: no reuse.
      process.kill(scope === 'group' ? -p.pid : p.pid, 'SIGKILL');
      p.killed = scope;
    };

    let injected = 0;
    while (Date.now() < deadline) {
      await sleep(between(50, 250));
      readTail();
      // Among the faults that have a victim where we want it right now, any one.
      const ready = FAULTS.map((fault) => ({
        fault,
        victims: [...live].filter(
          (p) =>
            p.kind === fault.kind &&
            p.killed === null &&
            (fault.want === 'any' || stateOf(p) === fault.want),
        ),
      })).filter((x) => x.victims.length > 0);
      if (ready.length === 0) continue;
      // Holders are the rarer catch (most parties wait most of the time): half the time, one of them.
      const holding = ready.filter((x) => x.fault.want === 'holding');
      const { fault, victims } = pick(holding.length > 0 && Math.random() < 0.5 ? holding : ready);
      kill(pick(victims), fault.scope);
      injected++;
    }
    stopping = true;

    const waitUntil = async (what, ok, ms, every = 100) => {
      const limit = Date.now() + ms;
      while (!ok()) {
        if (Date.now() > limit) assert.fail(`timed out waiting for ${what}`);
        await sleep(every);
      }
    };
    // Everything ends by itself: engine parties at the deadline, the CLIs and flock(1) after one
    // command each, and the commands of wrappers killed alone when they are done.
    const allEnded = async () => {
      await waitUntil(
        `every party to exit: ${[...live].map((p) => `${p.id} ${p.kind}`).join(', ')}`,
        () => live.size === 0,
        120_000,
      );
      await waitUntil(
        'the commands of killed wrappers to end',
        () => survivors(token).length === 0,
        60_000,
      );
    };
    await allEnded();
    // The last fault is always an update's CLI killed alone while its command runs (issue 11
    // item 1), once nothing else is left, so that the checks below run right after an orphaned
    // update has ended, with nobody else around to tidy up after it.
    const finale = spawnParty('update', [
      ...cliArgs,
      'update',
      tc,
      '--',
      ...command('write', 'update', 1500),
    ]);
    await waitUntil(
      'the last update to run its command',
      () => {
        if (finale.exit)
          assert.fail(
            `the last update ended before its command ran: ${JSON.stringify(finale.exit)} ${fs.readFileSync(finale.errFile, 'utf8')}`,
          );
        readTail();
        return stateOf(finale) === 'holding';
      },
      120_000,
      20,
    );
    kill(finale, 'process');
    injected++;

    await allEnded();

    const lines = fs.readFileSync(logFile, 'latin1').split('\n');
    const r = checkLockLog(lines);
    const locksHeld = heldLockFiles(dir);
    const deadRecords = recordFiles(dir);
    const status = statusOf();
    const afterStatus = recordFiles(dir);
    // Looking never writes; the explicit clean-up removes what the killed parties left.
    const cleaned = spawnSync(process.execPath, [cli, '--lock-dir', dir, 'clean'], {
      encoding: 'utf8',
    });
    assert.equal(cleaned.status, 0, cleaned.stderr);
    const recordsLeft = recordFiles(dir);
    const tempLeft = fs.readdirSync(dir).filter((n) => n.startsWith('.'));

    const failed = ended.filter((p) => p.killed === null && (p.exit.code !== 0 || p.exit.error));
    const byRole = (role, what) =>
      lines.filter((l) => l.split(' ')[5] === role && l.split(' ')[3] === what).length;
    const updates = ['update', 'flock-write'].map((role) => ({
      role,
      began: byRole(role, 'acquire'),
      ended: byRole(role, 'release'),
    }));
    const killedWithGroup = r.faults
      .filter((f) => f.scope === 'group')
      .flatMap((f) => f.held)
      .filter((role) => role === 'update' || role === 'flock-write').length;
    // Began under the lock and never ended, though nobody killed its group: a lost update (or read).
    const lost = r.stillHeld;
    const count = (list) =>
      Object.entries(list.reduce((m, k) => ({ ...m, [k]: (m[k] ?? 0) + 1 }), {}))
        .map(([k, n]) => `${n} ${k}`)
        .join(', ');

    t.diagnostic(`faults injected: ${r.faults.length} (${injected} sent)`);
    t.diagnostic(
      `  by victim: ${count(r.faults.map((f) => `${f.kind}${f.scope === 'group' ? ' group' : ''}`))}`,
    );
    t.diagnostic(
      `  by state: ${count(r.faults.map((f) => `${f.kind.startsWith('engine') ? 'engine' : 'wrapper'}: ${f.state}`))}`,
    );
    t.diagnostic(
      `overlaps: ${r.overlaps.length}; locks left held: ${locksHeld.length}; records left: ${recordsLeft.length} (${deadRecords.length} of killed parties before \`clean\`); temporary files left: ${tempLeft.length}`,
    );
    t.diagnostic(
      `updates: ${updates.map((u) => `${u.role} ${u.began} began, ${u.ended} ended`).join('; ')}; ${killedWithGroup} killed with their group on purpose; ${r.survivedWrapper.length} commands outlived their killed wrapper (${count(r.survivedWrapper.map((s) => s.role))}); updates lost: ${lost.filter((h) => h.mode === 'write').length}; reads lost: ${lost.filter((h) => h.mode === 'read').length}`,
    );
    t.diagnostic(
      `served: ${r.served.read} reads, ${r.served.write} writes (${count(lines.filter((l) => l.split(' ')[3] === 'acquire').map((l) => `${l.split(' ')[2]} by ${l.split(' ')[5]}`))}); parties: ${ended.length}; lines ignored after a kill: ${r.ignoredAfterKill}`,
    );

    assert.deepEqual(r.overlaps, [], 'no writer overlapped anyone');
    assert.deepEqual(
      lost,
      [],
      'every command that began under the lock ended, unless its group was killed',
    );
    assert.deepEqual(locksHeld, [], 'no lock or gate file is held once everything has exited');
    assert.equal(status.state, 'free', JSON.stringify(status));
    assert.deepEqual(
      [status.holders, status.waiting, status.problems],
      [[], [], []],
      JSON.stringify(status),
    );
    assert.deepEqual(afterStatus, deadRecords, '`status` removed nothing');
    assert.deepEqual(recordsLeft, [], 'no record is left once `clean` has run');
    assert.deepEqual(
      failed.map(
        (p) =>
          `${p.id} ${p.kind} exit ${p.exit.code ?? p.exit.signal ?? p.exit.error}: ${fs.readFileSync(p.errFile, 'utf8').slice(-500)}`,
      ),
      [],
      'every party that was not killed succeeded',
    );
    // The test did what it says: victims caught waiting and holding, and updates that outlived
    // their killed `toolchain-lock update` (issue 11 item 1).
    assert.ok(
      r.faults.some((f) => f.state.startsWith('waiting')),
      'some victims were waiting',
    );
    assert.ok(
      r.faults.some((f) => f.held.length > 0),
      'some victims were holding',
    );
    assert.ok(
      r.survivedWrapper.some((s) => s.role === 'update'),
      'some update command outlived its killed CLI and completed',
    );
  },
);
