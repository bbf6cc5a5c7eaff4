import { clean, toolchainKey } from '../lock';
import { parseArgs } from './args';
import { commonOptions, resolveSpecs } from './common';
import { UsageError } from './exit-codes';
import { printHelp } from './help';

/** `clean [TOOLCHAIN ...] [--json]`: removes dead records and abandoned temporary files, says which. */
export async function cleanCommand(argv: readonly string[]): Promise<number> {
  const args = parseArgs('clean', argv, { flags: ['--json'], values: [] });
  if (args.flags.has('--help')) return printHelp('clean');
  if (args.rest !== null) throw new UsageError('`clean` runs no command; leave out `--`.', 'clean');
  const common = commonOptions(args);
  const keys =
    args.positionals.length > 0
      ? resolveSpecs(args.positionals, { allowMissing: true }).map((t) => toolchainKey(t.path))
      : undefined;
  const removed = clean({ lockDir: common.lockDir, keys });
  if (args.flags.has('--json'))
    process.stdout.write(`${JSON.stringify({ lockDir: common.lockDir, removed }, null, 2)}\n`);
  else if (removed.length === 0) process.stdout.write(`Nothing to clean in ${common.lockDir}.\n`);
  else process.stdout.write(removed.map((r) => `removed ${r.reason} ${r.file}\n`).join(''));
  return 0;
}
