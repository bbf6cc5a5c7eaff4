// Helpers for e2e tests that drive a real VS Code (code-server) in headless Chromium.
// code-server is installed (once per version, cached outside the repo) by scripts/code-server.mjs
// and run with that version's own Node; Chromium is Debian's (`apt-get install -y chromium`).
// A test file picks its code-server version once with selectCodeServer() (default 4.100.3).

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import {
  CODE_SERVER_VERSION,
  CODE_SERVER_VERSIONS,
  installCodeServer,
} from '../../scripts/code-server.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

// Each test file runs in its own process, so this is "the code-server of this test file".
let selectedVersion = CODE_SERVER_VERSION;

/** Makes every later startCodeServer / installExtension / screenshot of this process use `version`. */
export function selectCodeServer(version) {
  if (!CODE_SERVER_VERSIONS[version])
    throw new Error(
      `unknown code-server version ${version}; known: ${Object.keys(CODE_SERVER_VERSIONS).join(', ')}`,
    );
  selectedVersion = version;
}

/** Where screenshots go: test-artifacts/ (git-ignored), in a subfolder for a non-default code-server. */
export function artifactsDir() {
  const base = path.join(repoRoot, 'test-artifacts');
  return selectedVersion === CODE_SERVER_VERSION
    ? base
    : path.join(base, `code-server-${selectedVersion}`);
}

const DEFAULT_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.ignoreRecommendations': true,
  'terminal.integrated.gpuAcceleration': 'off', // DOM renderer: terminal text is readable from .xterm-rows
};

/**
 * Settings whose values differ between VS Code versions. extensions.autoUpdate is true/false in
 * 1.100 but "on"/"off" in 1.139, which migrates an old value by rewriting settings.json at
 * startup; that rewrite makes 1.139's extension host drop the user's machine-overridable settings
 * (toolchainLock.servers, .toolchains) without reporting them as changed. So write the new form.
 */
function versionSettings(version) {
  const [major, minor] = CODE_SERVER_VERSIONS[version].vscode.split('.').map(Number);
  return { 'extensions.autoUpdate': major > 1 || minor > 100 ? 'off' : false };
}

const tmpDir = (prefix) => fs.mkdtempSync(path.join(os.tmpdir(), prefix));

/** Writes an empty code-server config so ~/.config/code-server/config.yaml is never created. */
function configFile(userDataDir) {
  const file = path.join(userDataDir, 'code-server.yaml');
  if (!fs.existsSync(file)) fs.writeFileSync(file, '');
  return file;
}

/**
 * Starts code-server on a free 127.0.0.1 port and waits until it answers HTTP.
 * @param {object} [o]
 * @param {string} [o.workspaceDir]  folder opened by default
 * @param {string} [o.userDataDir]   default: a new temp dir
 * @param {string} [o.extensionsDir] default: a new temp dir
 * @param {object} [o.settings]      user settings, merged over quiet defaults
 * @param {boolean} [o.trustPrompt]  keep the workspace trust prompt (default false: trust disabled)
 * @param {object} [o.env]           extra environment for code-server (and so the extension host)
 * @param {number} [o.timeoutMs]
 */
export async function startCodeServer({
  workspaceDir,
  userDataDir,
  extensionsDir,
  settings = {},
  trustPrompt = false,
  env = {},
  timeoutMs = 60_000,
} = {}) {
  const { entry, node } = await installCodeServer({ version: selectedVersion }); // no-op when already installed
  const ownDirs = [];
  if (!userDataDir) ownDirs.push((userDataDir = tmpDir('cs-data-')));
  if (!extensionsDir) ownDirs.push((extensionsDir = tmpDir('cs-ext-')));
  const userDir = path.join(userDataDir, 'User');
  fs.mkdirSync(userDir, { recursive: true });
  fs.mkdirSync(extensionsDir, { recursive: true });
  // VS Code 1.139 no longer asks at startup by default (startupPrompt "never"): ask, as 1.100 does.
  const trust = trustPrompt
    ? { 'security.workspace.trust.startupPrompt': 'once' }
    : { 'security.workspace.trust.enabled': false };
  const allSettings = {
    ...DEFAULT_SETTINGS,
    ...versionSettings(selectedVersion),
    ...trust,
    ...settings,
  };
  fs.writeFileSync(path.join(userDir, 'settings.json'), JSON.stringify(allSettings, null, 2));

  const args = [
    entry,
    '--config',
    configFile(userDataDir),
    '--auth',
    'none',
    '--bind-addr',
    '127.0.0.1:0', // code-server picks a free port and logs it: no race
    '--user-data-dir',
    userDataDir,
    '--extensions-dir',
    extensionsDir,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-getting-started-override',
    ...(trustPrompt ? [] : ['--disable-workspace-trust']),
    ...(workspaceDir ? [workspaceDir] : []),
  ];
  // detached: own process group, so stop() also ends the extension host, pty host, etc.
  const child = spawn(node, args, {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    // A tab closed without its disconnect message reaching the server (a loaded machine) keeps
    // its extension host for the grace time, 3 hours by default: bound it, where code-server
    // reads it (4.139; older versions ignore the variable and rely on the disconnect).
    env: { CODE_SERVER_RECONNECTION_GRACE_TIME: '30', ...process.env, ...env },
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise((resolve) => child.once('exit', resolve));

  const killGroup = (signal) => {
    try {
      process.kill(-child.pid, signal);
    } catch {}
  };
  const onExit = () => killGroup('SIGKILL');
  process.once('exit', onExit);
  const stop = async () => {
    process.removeListener('exit', onExit);
    if (child.exitCode === null && child.signalCode === null) killGroup('SIGTERM');
    const timer = setTimeout(() => killGroup('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
    killGroup('SIGKILL'); // leftovers of the group, if any
    for (const d of ownDirs) fs.rmSync(d, { recursive: true, force: true });
  };

  const deadline = Date.now() + timeoutMs;
  let port;
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`code-server exited with ${child.exitCode}`);
      if (Date.now() > deadline)
        throw new Error(`code-server did not answer within ${timeoutMs} ms`);
      port ??=
        Number(/HTTP server listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(output)?.[1]) ||
        undefined;
      if (port) {
        const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then(
          (r) => r.ok,
          () => false,
        );
        if (ok) break;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  } catch (e) {
    await stop();
    throw new Error(`${e.message}\n--- code-server output ---\n${output}`);
  }
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    version: selectedVersion,
    process: child,
    userDataDir,
    extensionsDir,
    output: () => output,
    stop,
  };
}

/** Installs a .vsix with code-server's CLI (before startCodeServer, with the same dirs). */
export async function installExtension(vsixPath, extensionsDir, userDataDir) {
  const { entry, node } = await installCodeServer({ version: selectedVersion });
  fs.mkdirSync(userDataDir, { recursive: true });
  const r = spawnSync(
    node,
    [
      entry,
      '--config',
      configFile(userDataDir),
      '--user-data-dir',
      userDataDir,
      '--extensions-dir',
      extensionsDir,
      '--force',
      '--install-extension',
      path.resolve(vsixPath),
    ],
    { encoding: 'utf8', timeout: 120_000 },
  );
  const out = `${r.stdout}${r.stderr}`;
  if (r.status !== 0 || !/successfully installed/i.test(out)) {
    throw new Error(`installing ${vsixPath} failed (exit ${r.status}):\n${out}`);
  }
  return out;
}

function findChromium() {
  const names = process.env.CHROMIUM_PATH
    ? [process.env.CHROMIUM_PATH]
    : ['chromium', 'chromium-browser'];
  for (const name of names) {
    const dirs = path.isAbsolute(name) ? [''] : (process.env.PATH || '').split(path.delimiter);
    for (const d of dirs) {
      const p = path.join(d, name);
      try {
        fs.accessSync(p, fs.constants.X_OK);
        return p;
      } catch {}
    }
  }
  throw new Error('Chromium not found: apt-get install -y chromium (or set CHROMIUM_PATH)');
}

/** Headless Debian Chromium driven by playwright-core. */
export function launchBrowser({ headless = true } = {}) {
  return chromium.launch({
    executablePath: findChromium(),
    headless,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
}

/** Opens the workbench for `folder` and waits until it and its status bar are shown. */
export async function openWorkbench(browser, url, folder, { timeoutMs = 60_000 } = {}) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(folder ? `${url}/?folder=${encodeURIComponent(folder)}` : url);
  await page.locator('.monaco-workbench').waitFor({ timeout: timeoutMs });
  await page.locator('[id="workbench.parts.statusbar"]').waitFor({ timeout: timeoutMs });
  return page;
}

/**
 * Runs a command by its palette title: F1, type, Enter. Pass `waitClosed: false` for commands
 * that open another quick pick or input box.
 */
export async function runCommand(page, title, { timeoutMs = 15_000, waitClosed = true } = {}) {
  const input = page.locator('.quick-input-widget input');
  await page.keyboard.press('F1');
  await input.waitFor({ timeout: timeoutMs });
  await input.fill(`>${title}`);
  await page
    .locator('.quick-input-list .monaco-list-row', { hasText: title })
    .first()
    .waitFor({ timeout: timeoutMs });
  await page.keyboard.press('Enter');
  if (waitClosed)
    await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: timeoutMs });
}

/**
 * Text of a status bar item. `id` is the DOM id VS Code gives it: `<publisher>.<name>.<item id>`
 * for createStatusBarItem(id, ...); the bare item id also matches. Waits for the item to appear.
 */
export async function statusBarItemText(page, id, { timeoutMs = 15_000 } = {}) {
  const item = page
    .locator(
      `[id="workbench.parts.statusbar"] [id="${id}"], [id="workbench.parts.statusbar"] [id$=".${id}"]`,
    )
    .first();
  await item.waitFor({ timeout: timeoutMs });
  return (await item.innerText()).trim();
}

/** Saves a PNG into artifactsDir() and returns its path. */
export async function screenshot(page, name) {
  const dir = artifactsDir();
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name.replace(/[^\w.-]+/g, '-')}.png`);
  await page.screenshot({ path: file });
  return file;
}

/** The variable that asks for the README screenshots: the directory to save them in (e.g. `media`). */
export const README_SCREENSHOTS_ENV = 'TOOLCHAIN_LOCK_SCREENSHOTS';

/**
 * A README screenshot: `<$TOOLCHAIN_LOCK_SCREENSHOTS>/screenshot-<name>.png`, cropped to the
 * smallest box holding every one of `locators` (plus a margin). Only when that variable is set,
 * and only in the default code-server, so a normal run never touches the tree. Returns the path,
 * or null when not asked for.
 */
export async function readmeScreenshot(page, name, locators, { margin = 16 } = {}) {
  const dir = process.env[README_SCREENSHOTS_ENV];
  if (!dir || selectedVersion !== CODE_SERVER_VERSION) return null;
  const boxes = [];
  for (const l of locators) {
    const box = await l.boundingBox();
    if (!box) throw new Error(`readme screenshot ${name}: ${l} is not visible`);
    boxes.push(box);
  }
  const { width, height } = page.viewportSize();
  const x = Math.max(0, Math.floor(Math.min(...boxes.map((b) => b.x)) - margin));
  const y = Math.max(0, Math.floor(Math.min(...boxes.map((b) => b.y)) - margin));
  const right = Math.min(width, Math.ceil(Math.max(...boxes.map((b) => b.x + b.width)) + margin));
  const bottom = Math.min(
    height,
    Math.ceil(Math.max(...boxes.map((b) => b.y + b.height)) + margin),
  );
  const file = path.resolve(repoRoot, dir, `screenshot-${name}.png`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await page.screenshot({ path: file, clip: { x, y, width: right - x, height: bottom - y } });
  return file;
}
