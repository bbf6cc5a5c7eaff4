import * as path from 'node:path';
import { status } from '../lock';
import { ToolchainError, whichToolchain, type ActiveToolchain } from '../toolchains';
import { parseArgs } from './args';
import { commonOptions } from './common';
import { UsageError } from './exit-codes';
import { printHelp } from './help';
import { statusDocument, type StatusEntry } from './status';

/** `which --json`: the toolchain's `status` entry plus the rule that chose it. */
export interface WhichEntry extends StatusEntry {
  readonly source: ActiveToolchain['source'];
  /** The file holding that rule; null for RUSTUP_TOOLCHAIN. */
  readonly sourceFile: string | null;
  /** False for a rustup toolchain that is pinned but not installed yet. */
  readonly installed: boolean;
}

/** The toolchain rustup would use in `dir`; exit 78 (E_UNKNOWN_TOOLCHAIN) when no rule applies. */
export function whichOrFail(dir: string): ActiveToolchain {
  const found = whichToolchain(dir);
  if (found) return found;
  throw new ToolchainError(
    'E_UNKNOWN_TOOLCHAIN',
    `No rustup toolchain applies in ${dir}: no RUSTUP_TOOLCHAIN, no \`rustup override\` for it, no rust-toolchain.toml or rust-toolchain in it or above, and no default toolchain. ` +
      'Name the toolchain, or set one with `rustup default stable`.',
  );
}

const SOURCE_TEXT: Readonly<Record<ActiveToolchain['source'], string>> = {
  env: 'RUSTUP_TOOLCHAIN',
  override: 'rustup override in',
  'toolchain-file': 'toolchain file',
  default: 'default toolchain in',
};

/** `which [DIR] [--json]`: the toolchain rustup would use in DIR, and its lock. */
export async function whichCommand(argv: readonly string[]): Promise<number> {
  const args = parseArgs('which', argv, { flags: ['--json'], values: [] });
  if (args.flags.has('--help')) return printHelp('which');
  if (args.rest !== null) throw new UsageError('`which` runs no command; leave out `--`.', 'which');
  if (args.positionals.length > 1) throw new UsageError(`\`which\` takes at most one DIR (got ${args.positionals.length}).`, 'which');
  const common = commonOptions(args);
  const dir = path.resolve(args.positionals[0] ?? '.');
  const found = whichOrFail(dir);
  const [entry] = statusDocument(common.lockDir, status({ lockDir: common.lockDir, toolchains: [found.toolchain] })).toolchains;
  const which: WhichEntry = { ...entry!, source: found.source, sourceFile: found.sourceFile, installed: found.toolchain.missing !== true };
  if (args.flags.has('--json')) {
    process.stdout.write(`${JSON.stringify(which, null, 2)}\n`);
    return 0;
  }
  const lines = [
    `${found.toolchain.name}${which.installed ? '' : ' (not installed)'}`,
    `  path:      ${which.path}`,
    `  key:       ${which.key}`,
    `  lock file: ${which.lockFile}`,
    `  chosen by: ${SOURCE_TEXT[found.source]}${found.sourceFile ? ` ${found.sourceFile}` : ''}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
