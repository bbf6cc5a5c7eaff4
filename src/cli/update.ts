import { acquireWrite, type LockHandle } from '../lock';
import type { ResolvedToolchain } from '../toolchains';
import { numberOption, parseArgs } from './args';
import { runChild, trapSignals } from './child';
import { commonOptions, resolveSpecs, warn } from './common';
import { signalStatus, UsageError } from './exit-codes';
import { printHelp } from './help';
import { waitReporter } from './waiting';

/** The command that updates these toolchains when none was given after `--`. */
function defaultUpdateCommand(toolchains: readonly ResolvedToolchain[], specs: readonly string[]): readonly string[] {
  const only = toolchains.length === 1 ? toolchains[0] : undefined;
  if (only?.updateCommand) return only.updateCommand;
  const rustupNames = toolchains.map((t) => t.rustupName);
  if (rustupNames.every((n): n is string => n !== undefined)) return ['rustup', 'update', ...rustupNames];
  const unmanaged = toolchains.filter((t) => t.rustupName === undefined).map((t) => t.name);
  throw new UsageError(
    `No update command is known for ${unmanaged.join(', ')} (not a rustup toolchain). Give it after \`--\`: ` +
      `toolchain-lock update ${specs.join(' ')} -- CMD [ARG ...]`,
    'update',
  );
}

/** `update TOOLCHAIN... [--timeout S] [--no-wait] [-- CMD ...]`: CMD runs under the write lock of all of them. */
export async function updateCommand(argv: readonly string[]): Promise<number> {
  const args = parseArgs('update', argv, { flags: ['--no-wait'], values: ['--timeout', '--purpose'] });
  if (args.flags.has('--help')) return printHelp('update');
  const common = commonOptions(args);
  if (args.positionals.length === 0) throw new UsageError('Name the toolchain(s) to update: toolchain-lock update stable [-- CMD [ARG ...]]', 'update');
  const timeoutSeconds = numberOption(args, '--timeout', 'a number of seconds (e.g. 600)');
  if (timeoutSeconds !== undefined && args.flags.has('--no-wait')) throw new UsageError('Give either --timeout or --no-wait, not both.', 'update');
  const timeoutMs = args.flags.has('--no-wait') ? 0 : timeoutSeconds === undefined ? undefined : Math.round(timeoutSeconds * 1000);
  const toolchains = resolveSpecs(args.positionals);
  const cmd = args.rest !== null && args.rest.length > 0 ? args.rest : defaultUpdateCommand(toolchains, args.positionals);

  const trap = trapSignals();
  const controller = new AbortController();
  trap.setHandler((signal) => controller.abort(signal));
  const reporter = waitReporter(`write lock of ${toolchains.map((t) => t.name).join(', ')}`, { mode: 'write' });
  let lock: LockHandle;
  try {
    lock = await acquireWrite(toolchains, {
      lockDir: common.lockDir,
      client: 'cli',
      command: cmd,
      purpose: args.values.get('--purpose'),
      signal: controller.signal,
      timeoutMs,
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
    return await runChild(cmd, { fds: lock.fds, env: { ...process.env, ...lock.childEnv() }, trap, onSpawn: (pid) => lock.addChild(pid) });
  } finally {
    await lock.release();
    trap.dispose();
  }
}
