// One code-server with the packaged extension, its own lock dir, workspace, user-data and
// extensions dirs, a demo toolchain whose real language server the extension manages, and a
// headless browser. Torn down with a check that no language server outlives it.
import fs from 'node:fs';
import path from 'node:path';
import { createDemoToolchain, demoSettings } from '../../scripts/demo-toolchain.mjs';
import { installExtension, launchBrowser, openWorkbench, startCodeServer } from './harness.mjs';
import { diagnostics, languageServers, sleep, tempDir, waitFor } from './support.mjs';

const HELLO =
  'export function greet(name: string): string {\n  return `Hello, ${name}`;\n}\n\ngreet("toolchain");\n';

/**
 * @param {object} o
 * @param {string} o.name            prefix of the temp dirs
 * @param {string[]} o.vsixes        installed in this order
 * @param {object} [o.settings]      user settings besides the demo toolchain's
 * @param {(dirs: object) => object} [o.workspaceSettings] returns what to write to the workspace's
 *                                   .vscode/settings.json, given the fixture's dirs
 * @param {boolean} [o.trustPrompt]
 * @param {object | ((dirs: object) => object)} [o.env] more environment for code-server
 * @param {boolean} [o.demo]         manage the demo language server (default true)
 * @param {Record<string, string>} [o.files] more files for the workspace, by relative path
 */
export async function startFixture({
  name,
  vsixes,
  settings = {},
  workspaceSettings,
  trustPrompt = false,
  env = {},
  demo = true,
  files = {},
}) {
  const root = tempDir(`tcl-e2e-${name}-`);
  const dir = (n) => {
    const p = path.join(root, n);
    fs.mkdirSync(p, { recursive: true });
    return p;
  };
  const f = {
    root,
    toolchain: dir('toolchains/demo'),
    workspace: dir('workspace'),
    userData: dir('user-data'),
    extensions: dir('extensions'),
    lockDir: dir('locks'),
    server: null,
    browser: null,
  };
  const launcher = createDemoToolchain(f.toolchain);
  // No tsconfig.json (unlike the npm start demo): the workbench sometimes opens it as a jsonc model
  // at startup, which activates VS Code's built-in TypeScript extension in some windows and not in
  // others, and it shares a command id with the demo server (command-collision.mjs covers that).
  fs.writeFileSync(path.join(f.workspace, 'hello.ts'), HELLO);
  for (const [name, text] of Object.entries(files))
    fs.writeFileSync(path.join(f.workspace, name), text);
  if (workspaceSettings) {
    fs.mkdirSync(path.join(f.workspace, '.vscode'));
    fs.writeFileSync(
      path.join(f.workspace, '.vscode', 'settings.json'),
      JSON.stringify(workspaceSettings(f), null, 2),
    );
  }
  for (const vsix of vsixes) await installExtension(vsix, f.extensions, f.userData);
  f.server = await startCodeServer({
    workspaceDir: f.workspace,
    userDataDir: f.userData,
    extensionsDir: f.extensions,
    settings: { ...(demo ? demoSettings(f.toolchain, launcher) : {}), ...settings },
    trustPrompt,
    env: { TOOLCHAIN_LOCK_DIR: f.lockDir, ...(typeof env === 'function' ? env(f) : env) },
  });
  try {
    f.browser = await launchBrowser();
  } catch (err) {
    await f.server.stop();
    throw err;
  }
  /** A new browser page (a new VS Code window, with its own extension host) on the workspace. */
  f.openWindow = () => openWorkbench(f.browser, f.server.url, f.workspace);
  f.diagnostics = () => diagnostics(f.server, { lockDir: f.lockDir });
  return f;
}

/**
 * Closes the browser and code-server, then checks that no language server of the demo toolchain
 * is left running (they run in their own process groups, so nobody else would end them).
 */
export async function stopFixture(f) {
  if (!f) return;
  await f.browser?.close().catch(() => undefined);
  await f.server?.stop();
  let leftovers = [];
  try {
    await waitFor(
      'the language servers to end with code-server',
      () => {
        leftovers = languageServers(f.toolchain);
        return leftovers.length === 0;
      },
      { timeoutMs: 20_000 },
    );
  } catch {
    for (const s of leftovers) {
      try {
        process.kill(s.pid, 'SIGKILL');
      } catch {}
    }
    await sleep(200);
  }
  fs.rmSync(f.root, { recursive: true, force: true });
  if (leftovers.length > 0)
    throw new Error(
      `language servers outlived code-server: ${JSON.stringify(leftovers)} (killed now)`,
    );
}
