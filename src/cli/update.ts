import { acquireWrite, type LockHandle } from '../lock';
import { updateCommandOf, type ResolvedToolchain } from '../toolchains';
import { numberOption, parseArgs } from './args';
import { commonOptions, resolveSpecs } from './common';
import { UsageError } from './exit-codes';
import { printHelp } from './help';
import { runLocked } from './locked';
import { checkUnlocked, UNLOCKED_OPTIONS, unlockedChoice } from './unlocked';

/** The command that updates these toolchains when none was given after `--`. */
function defaultUpdateCommand(
  toolchains: readonly ResolvedToolchain[],
  specs: readonly string[],
): readonly string[] {
  const update = updateCommandOf(toolchains);
  if ('argv' in update) return update.argv;
  if ('linked' in update)
    throw new UsageError(
      `${update.linked.name} is a linked toolchain: rustup cannot update it; give the command after \`--\``,
      'update',
    );
  throw new UsageError(
    `No update command is known for ${update.unmanaged.map((t) => t.name).join(', ')} (not a rustup toolchain). Give it after \`--\`: ` +
      `toolchain-lock update ${specs.join(' ')} -- CMD [ARG ...]`,
    'update',
  );
}

/**
 * `update TOOLCHAIN... [--timeout S] [--no-wait] [--unlocked wait|proceed|fail] [--unlocked-timeout S] [-- CMD ...]`:
 * CMD runs under the write lock of all of them, once no process runs from them without a lock (or as chosen).
 */
export async function updateCommand(argv: readonly string[]): Promise<number> {
  const args = parseArgs('update', argv, {
    flags: ['--no-wait'],
    values: ['--timeout', '--purpose', ...UNLOCKED_OPTIONS],
  });
  if (args.flags.has('--help')) return printHelp('update');
  const common = commonOptions(args);
  if (args.positionals.length === 0)
    throw new UsageError(
      'Name the toolchain(s) to update: toolchain-lock update stable [-- CMD [ARG ...]]',
      'update',
    );
  const timeoutSeconds = numberOption(args, '--timeout', 'a number of seconds (e.g. 600)');
  if (timeoutSeconds !== undefined && args.flags.has('--no-wait'))
    throw new UsageError('Give either --timeout or --no-wait, not both.', 'update');
  const timeoutMs = args.flags.has('--no-wait')
    ? 0
    : timeoutSeconds === undefined
      ? undefined
      : Math.round(timeoutSeconds * 1000);
  const toolchains = resolveSpecs(args.positionals, { allowMissing: true });
  const unlocked = unlockedChoice(args, { noWait: args.flags.has('--no-wait') });
  const cmd =
    args.rest !== null && args.rest.length > 0
      ? args.rest
      : defaultUpdateCommand(toolchains, args.positionals);

  return runLocked<LockHandle>({
    what: `write lock of ${toolchains.map((t) => t.name).join(', ')}`,
    mode: 'write',
    cmd,
    acquire: (options) =>
      acquireWrite(toolchains, {
        ...options,
        lockDir: common.lockDir,
        purpose: args.values.get('--purpose'),
        timeoutMs,
        pollIntervalMs: common.pollIntervalMs,
      }),
    beforeRun: (_lock, signal) =>
      checkUnlocked(toolchains, unlocked, { lockDir: common.lockDir, signal }),
  });
}
