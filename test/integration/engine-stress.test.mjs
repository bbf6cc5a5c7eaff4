// Many readers and writers at once for a bounded time; an independent checker replays their log.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fixture, tempDir } from '../helpers.mjs';
import { checkLockLog } from './lock-log.mjs';

const SECONDS = Number(process.env.STRESS_SECONDS ?? 20);
const READERS = 8;
const WRITERS = 3;

test('the checker itself catches an overlap (control)', () => {
  const { overlaps } = checkLockLog([
    '1 10 read acquire 10 engine',
    '2 20 write acquire 20 engine',
    '3 10 read release 10 engine',
    '4 20 write release 20 engine',
  ]);
  assert.equal(overlaps.length, 1);
});

test(
  `stress: ${READERS} readers and ${WRITERS} writers for ${SECONDS} s never overlap a writer`,
  { timeout: (SECONDS + 60) * 1000 },
  async (t) => {
    const root = tempDir(t);
    const dir = path.join(root, 'locks');
    const tc = path.join(root, 'toolchain');
    fs.mkdirSync(tc);
    const logFile = path.join(root, 'log');
    const deadline = Date.now() + SECONDS * 1000;
    const parties = [...Array(READERS).fill('read'), ...Array(WRITERS).fill('write')].map(
      (mode) => {
        const child = spawn(
          process.execPath,
          [fixture('stress-party.mjs'), dir, tc, mode, String(deadline), logFile],
          { stdio: ['ignore', 'pipe', 'inherit'] },
        );
        t.after(() => child.kill('SIGKILL'));
        let out = '';
        child.stdout.on('data', (d) => (out += d));
        return new Promise((resolve) =>
          child.on('exit', (code) =>
            resolve({ mode, pid: String(child.pid), code, rounds: Number(out.trim()) }),
          ),
        );
      },
    );
    const results = await Promise.all(parties);
    for (const r of results) assert.equal(r.code, 0, `party ${r.pid} (${r.mode}) failed`);
    const { overlaps, servedBy, stillHeld } = checkLockLog(
      fs.readFileSync(logFile, 'utf8').split('\n'),
    );
    assert.deepEqual(overlaps, [], 'no writer overlapped anyone');
    assert.deepEqual(stillHeld, [], 'every acquisition was released');
    for (const r of results)
      assert.ok((servedBy.get(r.pid) ?? 0) > 0, `${r.mode}r ${r.pid} was served at least once`);
    const writes = results.filter((r) => r.mode === 'write').reduce((n, r) => n + r.rounds, 0);
    const reads = results.filter((r) => r.mode === 'read').reduce((n, r) => n + r.rounds, 0);
    t.diagnostic(`served ${writes} writes and ${reads} reads, 0 overlaps`);
  },
);
