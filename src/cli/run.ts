import { acquireRead, describeHolder, type ReadLock } from '../lock';
import { parseArgs } from './args';
import { commonOptions, resolveSpecs, say } from './common';
import { UsageError } from './exit-codes';
import { printHelp } from './help';
import { runLocked } from './locked';

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

  return runLocked<ReadLock>({
    what: `read lock of ${toolchain.name}`,
    mode: 'read',
    cmd,
    acquire: (options) =>
      acquireRead(toolchain, { ...options, lockDir: common.lockDir, purpose: args.values.get('--purpose'), pollIntervalMs: common.pollIntervalMs }),
    // The writer waits for CMD; say so once, so nobody wonders why their update does not start.
    whileHeld: (lock) =>
      lock.onUpdatePending((writer) => {
        say(`an update of ${toolchain.name} is waiting for \`${cmd.join(' ')}\` to finish: ${describeHolder(writer)}. It starts when this command exits.`);
      }),
  });
}
