// The lock scenario every runtime must pass with the CLI from the VSIX:
//   a `run` holder takes the read lock → `status --json` shows it held → `update --no-wait`
//   exits 75 → the holder ends (exit 0) → `update` runs its command (exit 0) → the lock is free.
//
// A runtime says how it runs node and how paths look to it:
//   { label, nodeArgv(args) → argv, nativePath(hostPath) → string, env,
//     holderCommand(stopFile) → argv, trueCommand → argv, startTimeoutMs,
//     flakyStart? (a RegExp for the CLI's stderr when the emulator, not Windows or the CLI, failed
//     to start a command: such a step is run once more, and the result line says so) }
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  describeEnd,
  expect,
  privateTempDir,
  runProcess,
  seconds,
  startProcess,
  waitUntil,
} from './harness.mjs';

const EXIT_BUSY = 75;
const EXIT_NOT_EXECUTABLE = 126;

/** Runs `cli.js ARGS` under the runtime to its end. */
function cli(runtime, cliPath, args, options) {
  return runProcess(runtime.nodeArgv([runtime.nativePath(cliPath), ...args]), options);
}

/** The one toolchain of `status TOOLCHAIN --json`, or why there is none. */
async function toolchainStatus(runtime, cliPath, toolchain, options) {
  const result = await cli(runtime, cliPath, ['status', toolchain, '--json'], options);
  if (result.code !== 0) return { why: `status --json: ${describeEnd(result)}` };
  try {
    const doc = JSON.parse(result.stdout);
    const entry = doc.toolchains?.[0];
    return entry ? { entry } : { why: `status --json lists no toolchain: ${result.stdout.trim()}` };
  } catch {
    return { why: `status --json printed no JSON: ${result.stdout.trim().slice(0, 200)}` };
  }
}

/** Waits until the holder holds the read lock, or fails early when it has ended. */
async function awaitHeld(runtime, cliPath, toolchain, holder, options) {
  let holderEnd;
  holder.done.then((r) => (holderEnd = r));
  return waitUntil(
    'the run holder holding the read lock',
    async () => {
      if (holderEnd)
        throw new Error(`the run holder ended before holding the lock: ${describeEnd(holderEnd)}`);
      const { entry, why } = await toolchainStatus(runtime, cliPath, toolchain, options);
      if (!entry) return { why };
      const held =
        entry.state === 'read' &&
        entry.holders.some((h) => h.mode === 'read' && h.state === 'held');
      return held
        ? { value: entry }
        : { why: `state ${entry.state}, ${entry.holders.length} holder(s)` };
    },
    { timeoutMs: runtime.startTimeoutMs, intervalMs: 300 },
  );
}

function setUpDirs() {
  const work = privateTempDir(`tcl-rt-`);
  const lockDir = path.join(work, 'locks');
  const toolchain = path.join(work, 'toolchain');
  const logs = path.join(work, 'logs');
  fs.mkdirSync(lockDir, { mode: 0o700 });
  fs.mkdirSync(toolchain);
  fs.mkdirSync(logs);
  return { work, lockDir, toolchain, logs, stopFile: path.join(work, 'stop-holder') };
}

/** Runs the scenario; returns a one-line detail with timings, throws with the reason on failure. */
export async function lockScenario(runtime, cliPath) {
  const dirs = setUpDirs();
  const env = {
    ...process.env,
    ...runtime.env,
    TOOLCHAIN_LOCK_DIR: runtime.nativePath(dirs.lockDir),
  };
  const options = { env, logDir: dirs.logs, timeoutMs: runtime.startTimeoutMs };
  const toolchain = runtime.nativePath(dirs.toolchain);
  const steps = [];
  const timed = async (label, promise) => {
    const started = Date.now();
    const value = await promise;
    steps.push(`${label} ${seconds(Date.now() - started)}`);
    return value;
  };

  const holderArgs = [
    'run',
    toolchain,
    '--purpose',
    `runtimes check ${runtime.label}`,
    '--',
    ...runtime.holderCommand(runtime.nativePath(dirs.stopFile)),
  ];
  const holder = startProcess(runtime.nodeArgv([runtime.nativePath(cliPath), ...holderArgs]), {
    ...options,
    timeoutMs: 10 * 60_000,
  });
  try {
    await timed('held', awaitHeld(runtime, cliPath, toolchain, holder, options));

    const busy = await timed(
      'update --no-wait',
      cli(
        runtime,
        cliPath,
        ['update', toolchain, '--no-wait', '--', ...runtime.trueCommand],
        options,
      ),
    );
    expect(
      busy.code === EXIT_BUSY,
      `update --no-wait while a reader holds the lock: expected exit ${EXIT_BUSY}, got ${describeEnd(busy)}`,
    );

    fs.writeFileSync(dirs.stopFile, '');
    const held = await timed('holder end', holder.done);
    expect(
      held.code === 0,
      `the run holder: expected exit 0 after its command ended, got ${describeEnd(held)}`,
    );

    const updateArgs = ['update', toolchain, '--timeout', '60', '--', ...runtime.trueCommand];
    let update = await timed('update', cli(runtime, cliPath, updateArgs, options));
    if (update.code === EXIT_NOT_EXECUTABLE && runtime.flakyStart?.test(update.stderr)) {
      steps.push(`update run again after: ${update.stderr.trim().split('\n').pop()}`);
      update = await timed('update', cli(runtime, cliPath, updateArgs, options));
    }
    expect(
      update.code === 0,
      `update after the holder ended: expected exit 0, got ${describeEnd(update)}`,
    );

    const after = await toolchainStatus(runtime, cliPath, toolchain, options);
    expect(
      after.entry?.state === 'free',
      `after the update the lock should be free: ${after.why ?? `state ${after.entry.state}`}`,
    );
  } catch (err) {
    throw new Error(`${err.message} (logs: ${dirs.logs})`);
  } finally {
    fs.writeFileSync(dirs.stopFile, ''); // a holder command left behind (e.g. under wine) ends too
    holder.kill();
    await holder.done;
  }
  fs.rmSync(dirs.work, { recursive: true, force: true });
  return `update --no-wait → 75, update → 0; ${steps.join(', ')}`;
}
