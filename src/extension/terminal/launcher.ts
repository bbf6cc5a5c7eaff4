// The `toolchain-lock` launcher put on the integrated terminal's PATH: it runs the bundled CLI
// with the editor's own runtime (Electron as Node, or Node on code-server), so no separate install.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { shQuote, writeAtomically } from '../../toolchains';

/** The launcher script for this platform. */
export function launcherScript(
  execPath: string,
  cliPath: string,
  platform: NodeJS.Platform = process.platform,
): { name: string; text: string } {
  if (platform === 'win32') {
    return {
      name: 'toolchain-lock.cmd',
      text: [
        '@echo off',
        'rem Written by the Toolchain Lock extension: runs its bundled CLI.',
        'setlocal',
        'set ELECTRON_RUN_AS_NODE=1',
        `"${execPath}" "${cliPath}" %*`,
        '',
      ].join('\r\n'),
    };
  }
  return {
    name: 'toolchain-lock',
    text: [
      '#!/bin/sh',
      "# Written by the Toolchain Lock extension: runs its bundled CLI with the editor's runtime.",
      'ELECTRON_RUN_AS_NODE=1',
      'export ELECTRON_RUN_AS_NODE',
      `exec ${shQuote(execPath)} ${shQuote(cliPath)} "$@"`,
      '',
    ].join('\n'),
  };
}

/** Writes the launcher into `<storageDir>/bin` (only when it changed) and returns that directory. */
export function installLauncher(storageDir: string, execPath: string, cliPath: string): string {
  const bin = path.join(storageDir, 'bin');
  fs.mkdirSync(bin, { recursive: true });
  const { name, text } = launcherScript(execPath, cliPath);
  writeAtomically(path.join(bin, name), text);
  return bin;
}
