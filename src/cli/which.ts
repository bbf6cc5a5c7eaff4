import * as path from 'node:path';
import { status } from '../observe';
import {
  commandLineToolchain,
  ToolchainError,
  whichToolchain,
  type ActiveToolchain,
} from '../toolchains';
import { parseArgs } from './args';
import { commonOptions } from './common';
import { UsageError } from './exit-codes';
import { printHelp } from './help';
import { statusDocument, type StatusEntry } from './status';

/** `which --json`: the toolchain's `status` entry plus the rule that chose it. */
export interface WhichEntry extends StatusEntry {
  /** `command-line` for a leading `+TOOLCHAIN`, as a proxy or rustup would be given it. */
  readonly source: ActiveToolchain['source'] | 'command-line';
  /** The file holding that rule; null for RUSTUP_TOOLCHAIN and `+TOOLCHAIN`. */
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

const SOURCE_TEXT: Readonly<Record<WhichEntry['source'], string>> = {
  'command-line': '+toolchain on the command line',
  env: 'RUSTUP_TOOLCHAIN',
  override: 'rustup override in',
  'toolchain-file': 'toolchain file',
  default: 'default toolchain in',
};

/** `which [+TOOLCHAIN] [DIR] [--json]`: the toolchain rustup would use in DIR (or the one `+TOOLCHAIN` names), and its lock. */
export async function whichCommand(argv: readonly string[]): Promise<number> {
  const args = parseArgs('which', argv, { flags: ['--json'], values: [] });
  if (args.flags.has('--help')) return printHelp('which');
  if (args.rest !== null) throw new UsageError('`which` runs no command; leave out `--`.', 'which');
  const plus = args.positionals[0]?.startsWith('+') ? args.positionals[0].slice(1) : undefined;
  if (plus === '')
    throw new UsageError('`+` needs a toolchain name, as in `which +nightly`.', 'which');
  const dirs = plus === undefined ? args.positionals : args.positionals.slice(1);
  if (dirs.length > 1)
    throw new UsageError(`\`which\` takes at most one DIR (got ${dirs.length}).`, 'which');
  const common = commonOptions(args);
  const dir = path.resolve(dirs[0] ?? '.');
  const found: Omit<ActiveToolchain, 'source'> & { source: WhichEntry['source'] } =
    plus === undefined
      ? whichOrFail(dir)
      : { toolchain: commandLineToolchain(plus), source: 'command-line', sourceFile: null };
  const [entry] = statusDocument(
    common.lockDir,
    status({ lockDir: common.lockDir, toolchains: [found.toolchain] }),
  ).toolchains;
  const which: WhichEntry = {
    ...entry!,
    source: found.source,
    sourceFile: found.sourceFile,
    installed: found.toolchain.missing !== true,
  };
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
