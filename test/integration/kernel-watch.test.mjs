// The kernel's wake-ups as the engine uses them (real inotify through our native module): what
// each kind of watch reports, and that one path watched for several listeners reports no more
// than the widest of those still listening. An idle reader waits for a writer's record to appear;
// other readers' records going must not wake it (50 readers draining would wake each other
// 2,500 times and starve the writer they drain for).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { bundle } from '../unit/extension-harness.mjs';
import { spawnHolder, tempDir } from '../helpers.mjs';

const linux = process.platform === 'linux';
let kw;
let buildDir;
before(async () => {
  buildDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tcl-kw-build-'));
  kw = (await bundle(buildDir, 'kernel-watch', "export * from './src/lock/os/kernel-watch';"))
    .module;
});
after(() => fs.rmSync(buildDir, { recursive: true, force: true }));

/** Collects events of one listener; `settled` resolves once `marker` has been seen created. */
function recorder() {
  const events = [];
  let wake = () => {};
  return {
    events,
    listener: (_watched, kind, name) => {
      events.push(`${kind} ${name}`);
      wake();
    },
    /** Creates `marker` and waits until this listener heard it: everything before it has arrived too. */
    async sync(dir, marker) {
      fs.writeFileSync(path.join(dir, marker), '');
      const seen = () => events.includes(`entry ${marker}`);
      for (let i = 0; i < 200 && !seen(); i++)
        await new Promise((resolve) => ((wake = resolve), setTimeout(resolve, 50)));
      assert.ok(seen(), `heard ${marker}: ${events.join(', ')}`);
    },
  };
}

test(
  'an "arrivals" watch hears names appear (created, renamed in), not go; "entries" hears both',
  { skip: !linux && 'inotify is Linux only' },
  async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tcl-kw-'));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    fs.writeFileSync(path.join(dir, 'old'), '');
    const arrivals = recorder();
    const a = kw.kernelWatch(dir, 'arrivals', arrivals.listener);
    t.after(() => a.dispose());
    fs.writeFileSync(path.join(dir, '.tmp'), '');
    fs.renameSync(path.join(dir, '.tmp'), path.join(dir, 'record'));
    fs.rmSync(path.join(dir, 'old'));
    await arrivals.sync(dir, 'marker1');
    assert.deepEqual(
      arrivals.events,
      ['entry .tmp', 'entry record', 'entry marker1'],
      'no event for the rename away or the removal',
    );

    const entries = recorder();
    const e = kw.kernelWatch(dir, 'entries', entries.listener);
    fs.rmSync(path.join(dir, 'record'));
    await entries.sync(dir, 'marker2');
    assert.deepEqual(entries.events, ['entry record', 'entry marker2']);
    // One watch per path: while someone asks for removals, everyone on that path hears them.
    assert.ok(
      arrivals.events.includes('entry record') && arrivals.events.lastIndexOf('entry record') > 1,
      arrivals.events.join(', '),
    );

    // The wider listener leaves: the watch narrows again, and removals wake nobody.
    e.dispose();
    arrivals.events.length = 0;
    fs.rmSync(path.join(dir, 'marker1'));
    fs.rmSync(path.join(dir, 'marker2'));
    await arrivals.sync(dir, 'marker3');
    assert.deepEqual(arrivals.events, ['entry marker3'], 'narrowed back to arrivals');
  },
);

test(
  'a watcher thread that fails says so, and a waiter it would have woken polls instead',
  { skip: !linux && 'inotify is Linux only' },
  async (t) => {
    const root = tempDir(t);
    const locks = path.join(root, 'locks');
    const tc = path.join(root, 'tc');
    fs.mkdirSync(tc);
    const reader = spawnHolder(t, ['--dir', locks, '--mode', 'read', '--toolchain', tc]);
    await reader.next('acquired');
    // The native watcher of the writer's process fails its first read(2) with EIO (a fault injected
    // for this test only): the reader's release below is the event it loses.
    const writer = spawnHolder(
      t,
      ['--dir', locks, '--mode', 'write', '--toolchain', tc, '--poll', '100'],
      { env: { TOOLCHAIN_LOCK_TEST_WATCH_FAULT: 'read' } },
    );
    await writer.next('waiting');
    reader.send('release');
    await reader.next('released');
    const warning = await writer.next('warning', { pred: (ev) => /watcher/.test(ev.message) });
    assert.match(
      warning.message,
      /watcher thread stopped on read: Input\/output error/,
      warning.message,
    );
    await writer.next('acquired');
    // Control: without the fault the same writer gets the lock with no warning.
    const again = spawnHolder(t, ['--dir', locks, '--mode', 'read', '--toolchain', tc]);
    writer.send('release');
    await again.next('acquired');
  },
);
