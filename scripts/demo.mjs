// npm start: the extension in a real VS Code (code-server) on 127.0.0.1, with a demo toolchain
// whose language server it manages. Ctrl-C stops everything this started.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { installExtension, startCodeServer } from '../test/e2e/harness.mjs';
import { createDemoToolchain, demoSettings } from './demo-toolchain.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const demo = path.join(root, '.cache', 'demo');
const step = (m) => console.log(`\x1b[1mstart:\x1b[0m ${m}`);

step('building and packaging the extension');
const pkg = spawnSync(
  process.execPath,
  [path.join(root, 'scripts', 'package.mjs'), '--out', path.join(demo, 'toolchain-lock.vsix')],
  { stdio: 'inherit' },
);
if (pkg.status !== 0) process.exit(pkg.status ?? 1);

const toolchain = path.join(demo, 'toolchains', 'demo');
const workspace = path.join(demo, 'workspace');
const userData = path.join(demo, 'user-data');
const extensions = path.join(demo, 'extensions');
const launcher = createDemoToolchain(toolchain);
fs.mkdirSync(workspace, { recursive: true });
fs.writeFileSync(
  path.join(workspace, 'hello.ts'),
  'export function greet(name: string): string {\n  return `Hello, ${name}`;\n}\n\ngreet("toolchain");\n',
);
fs.writeFileSync(
  path.join(workspace, 'tsconfig.json'),
  '{ "compilerOptions": { "strict": true } }\n',
);

step('installing code-server (cached after the first run) and the extension');
await installExtension(path.join(demo, 'toolchain-lock.vsix'), extensions, userData);
const server = await startCodeServer({
  workspaceDir: workspace,
  userDataDir: userData,
  extensionsDir: extensions,
  // The demo lives inside this repository's checkout: don't offer to open that repository.
  settings: { ...demoSettings(toolchain, launcher), 'git.openRepositoryInParentFolders': 'never' },
});

const cli = `node ${path.join(root, 'dist', 'cli.js')}`;
console.log(`
  VS Code (code-server) with Toolchain Lock: ${server.url}/?folder=${encodeURIComponent(workspace)}

  Open hello.ts: the demo language server starts and this window holds a read lock on "demo".
  Try an update while it runs:
    - in VS Code: Command Palette → "Toolchain Lock: Update toolchain safely"
    - or in its terminal:   toolchain-lock update demo      (runs demo's configured update command)
    - or from here:         ${cli} update ${toolchain} -- node ${path.join(root, 'scripts', 'demo-update.mjs')} ${toolchain}
  See who holds what:       ${cli} status

  Ctrl-C stops code-server and everything it started.
`);

const shutdown = async () => {
  step('stopping');
  await server.stop();
  process.exit(0);
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
await new Promise(() => {});
