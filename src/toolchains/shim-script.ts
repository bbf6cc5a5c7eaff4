// The text of one shim: a tiny script named like a rustup program (cargo, rustc, rustup, ...)
// that finds the real program further down PATH and runs it through `toolchain-lock shims exec`.
import * as path from 'node:path';
import { rustupHome } from './rustup';
import type { ResolvedToolchain } from './types';

/** The file every shim directory holds: the programs we wrote there. It also marks the directory as one. */
export const SHIM_MANIFEST = '.toolchain-lock-shims';
/** In the second line of every shim: how uninstall tells our files from others'. */
export const SHIM_SIGNATURE = 'toolchain-lock shim:';
/**
 * Set by a shim for the program it runs under a toolchain's lock: `$RUSTUP_HOME/toolchains/NAME`
 * of that toolchain. A nested shim whose call rustup resolves to the same directory (rustup's
 * proxies set RUSTUP_HOME and RUSTUP_TOOLCHAIN for their children) runs the program straight.
 */
export const SHIM_TOOLCHAIN_ENV = 'TOOLCHAIN_LOCK_SHIM_TOOLCHAIN';

/** What a shim starts for everything but the nested fast path. */
export interface ShimRuntime {
  /** Node, or an Electron binary run as Node (the extension's shims). */
  readonly node: string;
  /** toolchain-lock's dist/cli.js. */
  readonly cli: string;
  /** The runtime is Electron: set ELECTRON_RUN_AS_NODE for it, and only for it. */
  readonly electron: boolean;
}

/** Program names a shim may have: safe in a file name and in the script, with no quoting. */
export const SHIM_NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;

export function shimFileName(
  program: string,
  platform: NodeJS.Platform = process.platform,
): string {
  return platform === 'win32' ? `${program}.cmd` : program;
}

/** The marker value for a toolchain, as a nested shim compares it; null for one rustup does not name. */
export function shimMarker(
  toolchain: ResolvedToolchain,
  env: NodeJS.ProcessEnv = process.env,
): string | null {
  return toolchain.kind === 'rustup' && toolchain.rustupName
    ? path.join(rustupHome(env), 'toolchains', toolchain.rustupName)
    : null;
}

/** `s` as one sh word, whatever it holds. */
export const shQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * The shim for `program` in `dir`. POSIX: a sh script that finds the real program itself (the
 * next PATH entry after the shim directories), runs it straight when the marker says its
 * toolchain is already held, and otherwise execs Node. Windows: a .cmd that always calls Node.
 */
export function shimScript(
  program: string,
  dir: string,
  runtime: ShimRuntime,
  platform: NodeJS.Platform = process.platform,
): string {
  if (!SHIM_NAME.test(program))
    throw new TypeError(`not a program name a shim can have: ${JSON.stringify(program)}`);
  const what = `${SHIM_SIGNATURE} runs \`${program}\` under the lock of the toolchain it uses. Written by \`toolchain-lock shims install\`; \`toolchain-lock shims uninstall\` removes it.`;
  if (platform === 'win32') {
    return [
      '@echo off',
      `rem ${what}`,
      'setlocal',
      ...(runtime.electron ? ['set ELECTRON_RUN_AS_NODE=1'] : []),
      `"${runtime.node}" "${runtime.cli}" shims exec --dir "${dir}"${runtime.electron ? ' --electron' : ''} -- ${program} %*`,
      '',
    ].join('\r\n');
  }
  return [
    '#!/bin/sh',
    `# ${what}`,
    `prog=${program}`,
    `dir=${shQuote(dir)}`,
    '# The real program: the first one on PATH after a shim directory (ours, or any holding the',
    `# ${SHIM_MANIFEST} manifest), which is never used itself; else the first one before (shims put`,
    '# behind ~/.cargo/bin, run by their path, still work, and say so). Empty entries are skipped.',
    'real= first= after=',
    'IFS=:',
    'set -f',
    'for d in $PATH; do',
    '  [ -n "$d" ] || continue',
    `  if [ "$d" = "$dir" ] || [ -f "$d/${SHIM_MANIFEST}" ]; then after=1; continue; fi`,
    '  if [ -x "$d/$prog" ] && [ ! -d "$d/$prog" ]; then',
    '    if [ -n "$after" ]; then real=$d/$prog; break; fi',
    '    [ -n "$first" ] || first=$d/$prog',
    '  fi',
    'done',
    '[ -n "$real" ] || real=$first',
    'if [ -z "$real" ]; then',
    '  echo "toolchain-lock: no real $prog on PATH besides the shims in $dir. Install rustup, or put its directory (~/.cargo/bin) on PATH after the shims." >&2',
    '  exit 127',
    'fi',
    ...(program === 'rustup'
      ? []
      : [
          '# Nested under a shim that holds the lock of the toolchain rustup picks for this call: run it straight.',
          'case ${1-} in',
          '  +*) ;;',
          `  *) if [ -n "\${${SHIM_TOOLCHAIN_ENV}-}" ] && [ "$${SHIM_TOOLCHAIN_ENV}" = "\${RUSTUP_HOME-}/toolchains/\${RUSTUP_TOOLCHAIN-}" ]; then exec "$real" "$@"; fi ;;`,
          'esac',
        ]),
    `node=${shQuote(runtime.node)}`,
    `cli=${shQuote(runtime.cli)}`,
    'if [ ! -x "$node" ] || [ ! -f "$cli" ]; then',
    '  echo "toolchain-lock: the shim $dir/$prog cannot start toolchain-lock: $node or $cli is gone. Run \\`toolchain-lock shims install\\` again, or take $dir off PATH." >&2',
    '  exit 127',
    'fi',
    ...(runtime.electron ? ['ELECTRON_RUN_AS_NODE=1', 'export ELECTRON_RUN_AS_NODE'] : []),
    `exec "$node" "$cli" shims exec --dir "$dir" --real "$real"${runtime.electron ? ' --electron' : ''} -- "$prog" "$@"`,
    '',
  ].join('\n');
}
