// Lays out a demo toolchain: a directory holding a real language server (typescript-language-server
// from this repo's node_modules) behind a launcher, plus a VERSION file an update rewrites.
// Used by `npm start` and by the e2e tests.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Creates (or refreshes) a demo toolchain in `dir`; returns the launcher's path. */
export function createDemoToolchain(dir) {
  fs.mkdirSync(path.join(dir, 'bin'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'node_modules'), { recursive: true });
  for (const mod of ['typescript-language-server', 'typescript']) {
    const link = path.join(dir, 'node_modules', mod);
    fs.rmSync(link, { recursive: true, force: true });
    fs.symlinkSync(path.join(root, 'node_modules', mod), link, 'dir');
  }
  const launcher = path.join(dir, 'bin', 'demo-language-server');
  fs.writeFileSync(
    launcher,
    `#!/bin/sh\n# The demo toolchain's language server.\nexec ${JSON.stringify(process.execPath)} "$(dirname "$0")/../node_modules/typescript-language-server/lib/cli.mjs" "$@"\n`,
    { mode: 0o755 },
  );
  if (!fs.existsSync(path.join(dir, 'VERSION'))) fs.writeFileSync(path.join(dir, 'VERSION'), '1\n');
  return launcher;
}

/** The settings that make the extension manage the demo server on the demo toolchain. */
export function demoSettings(toolchainDir, launcher) {
  return {
    'toolchainLock.toolchains': [
      {
        name: 'demo',
        path: toolchainDir,
        updateCommand: [
          process.execPath,
          path.join(root, 'scripts', 'demo-update.mjs'),
          toolchainDir,
        ],
      },
    ],
    'toolchainLock.servers': [
      {
        id: 'typescript',
        toolchain: 'demo',
        command: launcher,
        args: ['--stdio'],
        documentSelector: [{ language: 'typescript' }, { language: 'javascript' }],
      },
    ],
  };
}
