import { acquireRead, describeHolder, type ReadLock } from '../lock';
import { parseArgs } from './args';
import { runChild, trapSignals } from './child';
import { commonOptions, resolveSpecs, say, warn } from './common';
import { signalStatus, UsageError } from './exit-codes';
import { printHelp } from './help';
import { waitReporter } from './waiting';

/** `run TOOLCHAIN [--purpose TEXT] -- CMD [ARG ...]`: CMD runs under a read lock it inherits. */
export async function runCommand(argv: readonly string[]): Promise<number> {
  const args = parseArgs('run', argv, { flags: [], values: ['--purpose'] });
  if (args.flags.has('--help')) return printHelp('run');
  const common = commonOptions(args);
  const cmd = args.rest;
  if (cmd === null || cmd.length === 0) {
    const [spec = 'TOOLCHAIN', ...words] = args.positionals;
    throw new UsageError(`Give the command to run after \`--\`: toolchain-lock run ${spec} -- ${words.length > 0 ? words.join(' ') : 'CMD [ARG ...]'}`, 'run');
  }
  if (args.positionals.length !== 1) {
    throw new UsageError(`\`run\` takes exactly one TOOLCHAIN before \`--\` (got ${args.positionals.length}): toolchain-lock run stable -- cargo build`, 'run');
  }
  const [toolchain] = resolveSpecs(args.positionals);

  const trap = trapSignals();
  const controller = new AbortController();
  trap.setHandler((signal) => controller.abort(signal));
  const reporter = waitReporter(`read lock of ${toolchain.name}`, { mode: 'read' });
  let lock: ReadLock;
  try {
    lock = await acquireRead(toolchain, {
      lockDir: common.lockDir,
      client: 'cli',
      command: cmd,
      purpose: args.values.get('--purpose'),
      signal: controller.signal,
      pollIntervalMs: common.pollIntervalMs,
      onWait: reporter.onWait,
      onWarning: warn,
    });
  } catch (err) {
    reporter.done(false);
    trap.dispose();
    throw err;
  }
  reporter.done(true);
  try {
    if (trap.received) return signalStatus(trap.received);
    // The writer waits for CMD; say so once, so nobody wonders why their update does not start.
    const pending = lock.onUpdatePending((writer) => {
      say(`an update of ${toolchain.name} is waiting for \`${cmd.join(' ')}\` to finish: ${describeHolder(writer)}. It starts when this command exits.`);
    });
    try {
      return await runChild(cmd, { fds: lock.fds, env: { ...process.env, ...lock.childEnv() }, trap, onSpawn: (pid) => lock.addChild(pid) });
    } finally {
      pending.dispose();
    }
  } finally {
    await lock.release();
    trap.dispose();
  }
}
