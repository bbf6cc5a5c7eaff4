import { acquireRead, type ReadLock } from '../lock';
import { ToolchainError, type ResolvedToolchain } from '../toolchains';
import { parseArgs } from './args';
import { commonOptions, resolveSpecs, sayWhenAnUpdateWaits } from './common';
import { UsageError } from './exit-codes';
import { printHelp } from './help';
import { runLocked } from './locked';
import { whichOrFail } from './which';

/** A toolchain that is pinned here but not installed has nothing to lock for reading yet (exit 78). */
function installedOrFail(toolchain: ResolvedToolchain): ResolvedToolchain {
  if (!toolchain.missing) return toolchain;
  throw new ToolchainError(
    'E_UNKNOWN_TOOLCHAIN',
    `The toolchain of ${process.cwd()} is ${toolchain.name}, which is not installed. Install it first: toolchain-lock rustup toolchain install ${toolchain.name}`,
  );
}

/**
 * `run [TOOLCHAIN] [--purpose TEXT] -- CMD [ARG ...]`: CMD runs under a read lock it inherits.
 * Without TOOLCHAIN, the toolchain rustup would use in the current directory.
 */
export async function runCommand(argv: readonly string[]): Promise<number> {
  const args = parseArgs('run', argv, { flags: [], values: ['--purpose'] });
  if (args.flags.has('--help')) return printHelp('run');
  const common = commonOptions(args);
  const cmd = args.rest;
  if (cmd === null || cmd.length === 0) {
    const [spec = 'TOOLCHAIN', ...words] = args.positionals;
    throw new UsageError(
      `Give the command to run after \`--\`: toolchain-lock run ${spec} -- ${words.length > 0 ? words.join(' ') : 'CMD [ARG ...]'}`,
      'run',
    );
  }
  if (args.positionals.length > 1) {
    throw new UsageError(
      `\`run\` takes at most one TOOLCHAIN before \`--\` (got ${args.positionals.length}): toolchain-lock run stable -- cargo build`,
      'run',
    );
  }
  // Without TOOLCHAIN: the one rustup would use here, as `toolchain-lock which` shows it.
  const toolchain =
    args.positionals.length === 1
      ? resolveSpecs(args.positionals)[0]!
      : installedOrFail(whichOrFail(process.cwd()).toolchain);

  return runLocked<ReadLock>({
    what: `read lock of ${toolchain.name}`,
    mode: 'read',
    cmd,
    acquire: (options) =>
      acquireRead(toolchain, {
        ...options,
        lockDir: common.lockDir,
        purpose: args.values.get('--purpose'),
        pollIntervalMs: common.pollIntervalMs,
      }),
    // The writer waits for CMD; say so once, so nobody wonders why their update does not start.
    whileHeld: sayWhenAnUpdateWaits(toolchain.name, cmd),
  });
}
