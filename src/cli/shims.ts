import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  defaultShimDir,
  findRustup,
  installShims,
  rustupPrograms,
  SHIM_MANIFEST,
  shimPathReport,
  uninstallShims,
  type ShimPathReport,
  type ShimRuntime,
} from '../toolchains';
import { parseArgs, type ParsedArgs } from './args';
import { say } from './common';
import { UsageError } from './exit-codes';
import { printHelp } from './help';
import { shimExecCommand } from './shim-exec';

/** The runtime and CLI that run this command: what the shims will start. */
function thisRuntime(): ShimRuntime {
  return {
    node: process.execPath,
    cli: fs.realpathSync(__filename),
    electron: process.versions.electron !== undefined,
  };
}

function shimDirOf(args: ParsedArgs): string {
  const given = args.values.get('--dir');
  if (given !== undefined && given.trim() === '')
    throw new UsageError(
      '--dir wants a directory, e.g. --dir ~/.local/share/toolchain-lock/shims.',
      'shims',
    );
  return given !== undefined ? path.resolve(given) : defaultShimDir();
}

/** The shims' programs as the manifest lists them; null when the directory holds no shims. */
function installedPrograms(dir: string): string[] | null {
  try {
    const parsed = JSON.parse(fs.readFileSync(path.join(dir, SHIM_MANIFEST), 'utf8')) as {
      programs?: unknown;
    };
    return Array.isArray(parsed.programs)
      ? parsed.programs.filter((p): p is string => typeof p === 'string')
      : [];
  } catch {
    return null;
  }
}

/** How to put `dir` on PATH: the shell-init line, naming the directory when it is not the default. */
function onHint(dir: string): string {
  const flag =
    dir === defaultShimDir()
      ? ''
      : ` --dir ${/^[\w./-]+$/.test(dir) ? dir : `'${dir.replace(/'/g, `'\\''`)}'`}`;
  return `Turn them on with \`eval "$(toolchain-lock shell-init bash${flag})"\` at the end of ~/.bashrc (zsh, fish, powershell: see \`toolchain-lock help shell-init\`).`;
}

/** What `shims dir` says about a directory, line by line; the first says whether they are in effect. */
export function describeShimDir(
  report: ShimPathReport,
  programs: readonly string[] | null,
): string[] {
  const lines: string[] = [];
  const onPath = report.positions.length > 0;
  if (!report.exists || programs === null) {
    lines.push(
      `not in effect: no shims in ${report.dir}. Write them with \`toolchain-lock shims install\`.`,
    );
    if (onPath)
      lines.push(
        `${report.dir} is on PATH but holds no shims (removed?). Take it off PATH: remove the \`toolchain-lock shell-init\` line from your shell profile and open a new shell.`,
      );
    return lines;
  }
  if (report.inEffect)
    lines.push(
      `in effect: plain ${programs.join(', ')} run through the shims in ${path.dirname(report.resolved!)}.`,
    );
  else if (!onPath)
    lines.push(`not in effect: ${report.dir} is not on PATH. ${onHint(report.dir)}`);
  else if (report.ahead.length > 0) {
    lines.push(
      `not in effect: ${report.ahead.join(', ')} ${report.ahead.length === 1 ? 'comes' : 'come'} before ${report.dir} on PATH, so plain rustup, cargo, ... run without the lock. Put the shims first: the \`toolchain-lock shell-init\` line goes at the end of your shell profile.`,
    );
  } else lines.push(`not in effect: no rustup on PATH behind the shims in ${report.dir}.`);
  if (report.positions.length > 1)
    lines.push(
      `${report.dir} is on PATH ${report.positions.length} times; once is enough (\`toolchain-lock shell-init\` puts it there once).`,
    );
  return lines;
}

async function install(args: ParsedArgs): Promise<number> {
  const dir = shimDirOf(args);
  const rustup = findRustup(dir);
  const result = installShims(dir, rustupPrograms(rustup), thisRuntime());
  process.stdout.write(`${result.dir}\n`);
  say(
    `wrote ${result.programs.length} shims for ${rustup} into ${result.dir}: ${result.programs.join(', ')}${result.removed.length > 0 ? ` (removed ${result.removed.join(', ')})` : ''}.`,
  );
  const report = shimPathReport(result.dir, 'rustup');
  if (!report.inEffect) say(describeShimDir(report, result.programs)[0]!);
  return 0;
}

async function dirCommand(args: ParsedArgs): Promise<number> {
  const dir = shimDirOf(args);
  const programs = installedPrograms(dir);
  const report = shimPathReport(dir, 'rustup');
  if (args.flags.has('--json')) {
    const doc = {
      dir,
      installed: programs !== null,
      programs: programs ?? [],
      inEffect: report.inEffect,
      onPath: report.positions.length,
      resolved: report.resolved,
      ahead: report.ahead,
    };
    process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
  } else {
    process.stdout.write(`${dir}\n`);
    for (const line of describeShimDir(report, programs)) process.stdout.write(`  ${line}\n`);
  }
  return report.inEffect && programs !== null ? 0 : 1;
}

async function uninstall(args: ParsedArgs): Promise<number> {
  const dir = shimDirOf(args);
  const removed = uninstallShims(dir);
  process.stdout.write(`${dir}\n`);
  say(
    removed.length > 0
      ? `removed ${removed.length} shims from ${dir}.`
      : `no shims of toolchain-lock in ${dir}; nothing removed.`,
  );
  if (shimPathReport(dir, 'rustup').positions.length > 0)
    say(
      `${dir} is still on PATH: remove the \`toolchain-lock shell-init\` line from your shell profile.`,
    );
  return 0;
}

const SUBCOMMANDS: Readonly<Record<string, (args: ParsedArgs) => Promise<number>>> = {
  install,
  dir: dirCommand,
  uninstall,
};

/** `shims install|dir|uninstall [--dir DIR]`, and `shims exec`, which the shims themselves run. */
export async function shimsCommand(argv: readonly string[]): Promise<number> {
  // Everything after `exec` belongs to the program the shim stands for, --help included.
  if (argv[0] === 'exec') return shimExecCommand(argv.slice(1));
  const args = parseArgs('shims', argv, { flags: ['--json'], values: ['--dir'] });
  if (args.flags.has('--help')) return printHelp('shims');
  if (args.rest !== null) throw new UsageError('`shims` runs no command; leave out `--`.', 'shims');
  const [sub, ...extra] = args.positionals;
  if (sub === undefined || !Object.hasOwn(SUBCOMMANDS, sub)) {
    throw new UsageError(
      `${sub === undefined ? 'Say what to do' : `No \`shims ${sub}\``}: toolchain-lock shims install|dir|uninstall [--dir DIR].`,
      'shims',
    );
  }
  if (extra.length > 0)
    throw new UsageError(
      `\`shims ${sub}\` takes no other arguments (got ${extra.join(' ')}); a directory goes after --dir.`,
      'shims',
    );
  if (args.flags.has('--json') && sub !== 'dir')
    throw new UsageError('--json is for `shims dir`.', 'shims');
  return SUBCOMMANDS[sub]!(args);
}
