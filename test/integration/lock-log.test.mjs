// Controls of the stress tests' log checker (lock-log.mjs): it sees overlaps where they are,
// kill lines neither hide one nor invent one, and with real processes it does catch a client
// that breaks the protocol.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fixture, tempDir } from '../helpers.mjs';
import { checkLockLog } from './lock-log.mjs';

test('the checker ends a killed party at its kill line and ignores what it logs after (controls)', () => {
  // An overlap before the kill line is still an overlap.
  const before = checkLockLog([
    '1 10 read acquire p1 engine',
    '2 20 write acquire p2 engine',
    '3 10 engine-read kill p1 process record-held',
    '4 20 write release p2 engine',
  ]);
  assert.equal(before.overlaps.length, 1);
  // After the kill line the victim no longer holds: a writer may come in.
  const after = checkLockLog([
    '1 10 read acquire p1 engine',
    '2 10 engine-read kill p1 process record-held',
    '3 20 write acquire p2 engine',
    '4 20 write release p2 engine',
  ]);
  assert.deepEqual(after.overlaps, []);
  assert.deepEqual(after.faults, [
    { kind: 'engine-read', scope: 'process', state: 'holding', held: ['engine'] },
  ]);
  // A line the victim wrote after its kill line (before the signal landed) holds nothing for ever.
  const late = checkLockLog([
    '1 10 engine-write kill p1 process no-record',
    '2 10 write acquire p1 engine',
    '3 20 read acquire p2 engine',
  ]);
  assert.deepEqual(late.overlaps, []);
  assert.equal(late.ignoredAfterKill, 1);
});

test('the checker follows commands: a wrapper killed alone leaves its command holding (controls)', () => {
  // p1 is `update`: its wrapper (pid 10) is killed alone; its command (pid 11) still holds.
  const lines = [
    '1 11 write acquire p1 update',
    '2 10 update kill p1 process record-held',
    '3 20 read acquire p2 run',
    '4 11 write release p1 update',
  ];
  const r = checkLockLog(lines);
  assert.equal(r.overlaps.length, 1, 'a reader beside the orphaned update is an overlap');
  assert.deepEqual(
    r.survivedWrapper.map((s) => s.role),
    ['update'],
  );
  assert.equal(r.faults[0].state, 'wrapper alone, command running');
  // The whole group killed: the command is gone too, and nothing is "still held".
  const group = checkLockLog([
    '1 11 write acquire p1 update',
    '2 10 update kill p1 group record-held',
    '3 20 read acquire p2 run',
    '4 20 read release p2 run',
  ]);
  assert.deepEqual(group.overlaps, []);
  assert.deepEqual(group.stillHeld, []);
  assert.deepEqual(group.faults[0].held, ['update']);
  // An update that began and never ended, with nobody killing it, is lost.
  const lost = checkLockLog(['1 11 write acquire p1 update']);
  assert.equal(lost.stillHeld.length, 1);
});

test(
  'control: with real processes, a writer that takes only the gate (flock -x) is caught overlapping readers',
  { timeout: 90_000 },
  async (t) => {
    const root = tempDir(t, 'tcl-chaos-control-');
    const dir = path.join(root, 'locks');
    fs.mkdirSync(dir, { mode: 0o700 });
    const tc = path.join(root, 'toolchain');
    fs.mkdirSync(tc);
    const logFile = path.join(root, 'log');
    const deadline = Date.now() + 60_000;
    // Readers that hold for a while; the broken writer keeps new ones out but not those inside. They
    // hold longer than a Node process takes to start (the broken writer's command logs its acquire
    // only once Node runs), else on a slow machine every reader inside is gone by then.
    const readers = [1, 2, 3].map(() =>
      spawn(
        process.execPath,
        [fixture('stress-party.mjs'), dir, tc, 'read', String(deadline), logFile, '600'],
        { stdio: 'ignore' },
      ),
    );
    const exited = readers.map((r) => new Promise((resolve) => r.once('exit', resolve)));
    let overlaps = [];
    try {
      let gate;
      while (!(gate = fs.readdirSync(dir).find((n) => n.endsWith('.gate'))))
        await new Promise((r) => setTimeout(r, 20));
      for (let round = 0; overlaps.length === 0 && Date.now() < deadline; round++) {
        const broken = spawn(
          'flock',
          [
            '-x',
            path.join(dir, gate),
            process.execPath,
            fixture('chaos-command.mjs'),
            logFile,
            'write',
            'flock-write',
            '50',
          ],
          { stdio: 'ignore', env: { ...process.env, CHAOS_PARTY: `broken${round}` } },
        );
        await new Promise((resolve) => broken.once('exit', resolve));
        overlaps = checkLockLog(fs.readFileSync(logFile, 'latin1').split('\n')).overlaps;
      }
    } finally {
      // Before the temporary directory goes (its hook runs first): readers write records into it.
      for (const r of readers) r.kill('SIGKILL');
      await Promise.all(exited);
    }
    assert.ok(overlaps.length > 0, 'the checker saw the broken writer beside a reader');
    t.diagnostic(`first overlap seen: ${overlaps[0]}`);
  },
);
