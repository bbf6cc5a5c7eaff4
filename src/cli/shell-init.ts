import * as fs from 'node:fs';
import * as path from 'node:path';
import { defaultShimDir, SHIM_MANIFEST } from '../toolchains';
import { parseArgs } from './args';
import { say } from './common';
import { UsageError } from './exit-codes';
import { printHelp } from './help';

const HEADER =
  '# toolchain-lock shims: plain rustup, cargo, rustc, ... take the toolchain lock (toolchain-lock help shell-init)';

const sh = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
const fish = (s: string): string => `'${s.replace(/[\\']/g, (c) => `\\${c}`)}'`;
const ps = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/**
 * bash and zsh: every copy of DIR comes out of PATH, then (unless --off) DIR goes first. Running
 * it twice changes nothing: the shims are on PATH once, ahead of ~/.cargo/bin.
 */
function posix(dir: string, on: boolean): string {
  return [
    HEADER,
    `__tl_dir=${sh(dir)}`,
    '__tl_path=":${PATH}:"',
    'while :; do case $__tl_path in *":${__tl_dir}:"*) __tl_path="${__tl_path%%":${__tl_dir}:"*}:${__tl_path#*":${__tl_dir}:"}" ;; *) break ;; esac; done',
    '__tl_path=${__tl_path#:}; __tl_path=${__tl_path%:}',
    on
      ? 'PATH="${__tl_dir}${__tl_path:+:${__tl_path}}"; export PATH'
      : 'PATH=$__tl_path; export PATH',
    'unset __tl_dir __tl_path',
    '',
  ].join('\n');
}

function fishText(dir: string, on: boolean): string {
  return [
    HEADER,
    `set -l __tl_dir ${fish(dir)}`,
    'set -l __tl_path',
    'for __tl_p in $PATH',
    '    test "$__tl_p" = "$__tl_dir"; or set -a __tl_path $__tl_p',
    'end',
    on ? 'set -gx PATH $__tl_dir $__tl_path' : 'set -gx PATH $__tl_path',
    '',
  ].join('\n');
}

function powershell(dir: string, on: boolean): string {
  return [
    HEADER,
    `$__tlDir = ${ps(dir)}`,
    '$__tlPath = @($env:PATH -split [IO.Path]::PathSeparator | Where-Object { $_ -and $_ -ne $__tlDir })',
    on
      ? '$env:PATH = (@($__tlDir) + $__tlPath) -join [IO.Path]::PathSeparator'
      : '$env:PATH = $__tlPath -join [IO.Path]::PathSeparator',
    'Remove-Variable __tlDir, __tlPath',
    '',
  ].join('\n');
}

const SHELLS: Readonly<Record<string, (dir: string, on: boolean) => string>> = {
  bash: posix,
  zsh: posix,
  fish: fishText,
  powershell,
};

/** `shell-init bash|zsh|fish|powershell [--dir DIR] [--off]`: what a shell profile runs to put the shims first on PATH. */
export async function shellInitCommand(argv: readonly string[]): Promise<number> {
  const args = parseArgs('shell-init', argv, { flags: ['--off'], values: ['--dir'] });
  if (args.flags.has('--help')) return printHelp('shell-init');
  if (args.rest !== null)
    throw new UsageError('`shell-init` runs no command; leave out `--`.', 'shell-init');
  const [shell, ...extra] = args.positionals;
  if (shell === undefined || !Object.hasOwn(SHELLS, shell) || extra.length > 0) {
    throw new UsageError(
      `Name one shell: toolchain-lock shell-init ${Object.keys(SHELLS).join('|')}${shell !== undefined ? ` (got ${[shell, ...extra].join(' ')})` : ''}.`,
      'shell-init',
    );
  }
  const given = args.values.get('--dir');
  const dir = given ? path.resolve(given) : defaultShimDir();
  const on = !args.flags.has('--off');
  if (on && !fs.existsSync(path.join(dir, SHIM_MANIFEST)))
    say(
      `no shims in ${dir} yet: write them with \`toolchain-lock shims install${given ? ` --dir ${given}` : ''}\`.`,
    );
  process.stdout.write(SHELLS[shell]!(dir, on));
  return 0;
}
