// The wake-up logic of a waiting party (src/lock/wait-schedule.ts), without processes or clocks:
// each transition is given the time. What the engine tests show with real holders (a killed
// holder's release is tried at once and again shortly after; readers draining do not make a
// writer that holds every gate try on every record; reports start from the records and read the
// kernel's table only once a wait lasts), here step by step.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { bundle } from './extension-harness.mjs';

let ws;
let buildDir;
before(async () => {
  buildDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tcl-ws-build-'));
  ws = (
    await bundle(buildDir, 'wait-schedule', "export * from './src/lock/wait-schedule';", {
      native: false,
    })
  ).module;
});
after(() => fs.rmSync(buildDir, { recursive: true, force: true }));

const event = (kind, { gateClose = false, lockOnly = false } = {}) => ({
  kind,
  gateClose,
  lockOnly,
});

test('the first turn tries; then it sleeps until an event', () => {
  const s = new ws.WaitSchedule(Infinity, false);
  assert.deepEqual(s.startTurn(0), { afterClose: false });
  s.failedTry(false, false, 0);
  assert.equal(s.reportNow(0, true), null, 'nobody listens');
  assert.equal(s.sleepMs(0), Infinity);
  s.wokeUp();
  assert.equal(s.startTurn(10), null, 'no event, no try');
});

test('a close of a lock file tries at once, then after 1, 2, 4 … 64 ms, then waits for events again', () => {
  const s = new ws.WaitSchedule(Infinity, false);
  s.startTurn(0);
  s.failedTry(false, false, 0);
  assert.equal(s.heard(event('close'), 100), true);
  let now = 100;
  const delays = [];
  for (;;) {
    const turn = s.startTurn(now);
    assert.ok(turn, `a try at ${now}`);
    s.failedTry(false, turn.afterClose, now);
    const sleep = s.sleepMs(now);
    if (sleep === Infinity) break;
    delays.push(sleep);
    now += sleep;
    s.wokeUp();
  }
  assert.deepEqual(delays, ws.AFTER_CLOSE_RETRY_MS);
});

test('holding every gate, a gate closing does not wake, a record going is tried once shortly after', () => {
  const s = new ws.WaitSchedule(Infinity, false);
  s.startTurn(0);
  s.failedTry(false, false, 0);
  assert.equal(
    s.heard(event('close', { gateClose: true, lockOnly: true }), 5),
    false,
    'readers letting go of the gate',
  );
  assert.equal(s.heard(event('entry', { lockOnly: true }), 5), true);
  assert.equal(s.startTurn(5), null, 'not at once');
  assert.equal(s.sleepMs(5), ws.ENTRY_SETTLE_MS);
  s.wokeUp();
  assert.ok(s.startTurn(5 + ws.ENTRY_SETTLE_MS), 'tried once the burst settled');
  // Control: without every gate, a record going is tried at once, and a gate close is a close.
  const t = new ws.WaitSchedule(Infinity, false);
  t.startTurn(0);
  t.failedTry(false, false, 0);
  t.heard(event('entry'), 5);
  assert.ok(t.startTurn(5));
  t.failedTry(false, false, 5);
  t.heard(event('close', { gateClose: true }), 6);
  assert.deepEqual(t.startTurn(6), { afterClose: true });
});

test('a writer giving way until a time looks again by itself then; the deadline bounds every sleep', () => {
  const s = new ws.WaitSchedule(1000, false);
  s.startTurn(0);
  s.failedTry(300, false, 0);
  assert.equal(s.sleepMs(0), 300);
  s.wokeUp();
  assert.equal(s.startTurn(299), null, 'woken early by nothing that wants a try');
  assert.equal(s.sleepMs(299), 1);
  s.wokeUp();
  assert.ok(s.startTurn(300));
  s.failedTry(false, false, 300);
  assert.equal(s.sleepMs(300), 700, 'until the deadline');
  s.wokeUp();
  assert.ok(s.startTurn(1000), 'a last try at the deadline');
  assert.equal(s.timedOut(1000), true);
});

test('an abort and a poll tick each ask for a try; an open asks for none, and wakes only a listener', () => {
  const s = new ws.WaitSchedule(Infinity, false);
  s.startTurn(0);
  s.failedTry(false, false, 0);
  assert.equal(s.heard(event('open'), 1), false);
  s.aborted();
  assert.ok(s.startTurn(1));
  s.failedTry(false, false, 1);
  assert.equal(s.heard(event('poll'), 2), true);
  assert.ok(s.startTurn(2));
  const r = new ws.WaitSchedule(Infinity, true);
  r.startTurn(0);
  r.failedTry(false, false, 0);
  assert.equal(r.heard(event('open'), 1), true);
  assert.equal(r.startTurn(1), null, 'an arrival is reported, not tried');
});

test('reports: at once from the records, from the kernel once the wait lasts, then on changes (or every 5 s without kernel wakes)', () => {
  const s = new ws.WaitSchedule(Infinity, true);
  s.startTurn(1000);
  s.failedTry(false, false, 1000);
  assert.deepEqual(s.reportNow(1000, true), { kernel: false }, 'first: records only');
  assert.equal(s.sleepMs(1000), ws.REPORT_MIN_MS);
  s.wokeUp();
  s.startTurn(1000 + ws.REPORT_MIN_MS);
  assert.deepEqual(
    s.reportNow(1000 + ws.REPORT_MIN_MS, true),
    { kernel: true },
    'then once with the kernel table',
  );
  assert.equal(
    s.sleepMs(1000 + ws.REPORT_MIN_MS),
    Infinity,
    'with kernel wakes nothing changes unseen',
  );
  s.heard(event('entry', { lockOnly: true }), 2000);
  assert.equal(s.startTurn(2000), null);
  assert.deepEqual(s.reportNow(2000, true), { kernel: true }, 'records changed');
  assert.equal(s.reportNow(2001, true), null);
  s.wokeUp();
  s.failedTry(false, s.startTurn(2000 + ws.ENTRY_SETTLE_MS).afterClose, 2000 + ws.ENTRY_SETTLE_MS);
  s.heard(event('entry', { lockOnly: true }), 2010);
  assert.equal(s.startTurn(2010), null);
  assert.equal(s.reportNow(2010, true), null, 'not more often than REPORT_MIN_MS');
  assert.equal(s.sleepMs(2010), Math.min(ws.ENTRY_SETTLE_MS, ws.REPORT_MIN_MS - 10));
  // Without kernel wakes (polling), a look every REPORT_MAX_MS even if nothing was heard.
  assert.deepEqual(
    s.reportNow(2250, false),
    { kernel: true },
    'the change heard at 2010, once REPORT_MIN_MS has passed',
  );
  assert.equal(s.reportNow(2250 + ws.REPORT_MAX_MS - 1, false), null);
  assert.deepEqual(s.reportNow(2250 + ws.REPORT_MAX_MS, false), { kernel: true });
});
