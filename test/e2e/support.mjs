// Shared pieces of the e2e tests: the VSIX, per-test directories, polling, the lock directory and
// the real processes behind it, the workbench UI, and what to print when something fails.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const cliPath = path.join(repoRoot, 'dist', 'cli.js');
/** DOM id of the extension's status bar item: `<publisher>.<name>.<item id>`. */
export const STATUS_ITEM = 'toolchain-lock.toolchain-lock.toolchainLock.status';

const require = createRequire(import.meta.url);

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A new temp directory (real path: the lock keys and /proc command lines use real paths). */
export function tempDir(prefix) {
  return fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
}

/** Builds the VSIX with `scripts/package.mjs` into a temp dir; returns its path and a cleanup. */
export function packageVsix() {
  const dir = tempDir('tcl-e2e-vsix-');
  const out = path.join(dir, 'toolchain-lock.vsix');
  const r = spawnSync(
    process.execPath,
    [path.join(repoRoot, 'scripts', 'package.mjs'), '--out', out],
    // A fresh machine cross-builds six native modules with a cold zig cache: minutes under load.
    { cwd: repoRoot, encoding: 'utf8', timeout: 900_000 },
  );
  if (r.status !== 0)
    throw new Error(`npm run package failed (${r.status ?? r.signal}):\n${r.stdout}${r.stderr}`);
  return { vsix: out, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Polls `probe` until it returns something truthy and returns that. `probe(saw)` may call
 * `saw(x)` to say what it saw; on timeout the error names `what` and the last thing seen.
 * Bounds are generous: a slow machine waits longer, it does not fail.
 */
export async function waitFor(what, probe, { timeoutMs = 60_000, intervalMs = 200 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let seen;
  const saw = (x) => (seen = x);
  for (;;) {
    let value;
    try {
      value = await probe(saw);
      if (!value && seen === undefined) seen = value;
    } catch (err) {
      seen = err.message;
    }
    if (value) return value;
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs / 1000} s waiting for ${what} (last seen: ${JSON.stringify(seen)})`,
      );
    await sleep(intervalMs);
  }
}

// ---- the lock directory ----------------------------------------------------------------------

/** The engine's view (dist/lock.js `status`) of `toolchainDir`'s lock; null if never locked. */
export function lockOf(lockDir, toolchainDir) {
  const engine = require(path.join(repoRoot, 'dist', 'lock.js'));
  return engine.status({ lockDir }).find((s) => s.toolchain?.path === toolchainDir) ?? null;
}

/** Readers holding `toolchainDir` now (the engine's Holder objects). */
export function readersOf(lockDir, toolchainDir) {
  return (lockOf(lockDir, toolchainDir)?.holders ?? []).filter(
    (h) => h.mode === 'read' && h.state === 'held',
  );
}

/** Runs `toolchain-lock` (dist/cli.js) in the background; resolves `exited` with its status and output. */
export function startCli(args) {
  const child = spawn(process.execPath, [cliPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, exited, output: () => stdout + stderr };
}

/** `toolchain-lock status --json`, parsed. */
export function cliStatus(lockDir) {
  const r = spawnSync(process.execPath, [cliPath, 'status', '--json', '--lock-dir', lockDir], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (r.status !== 0) throw new Error(`toolchain-lock status failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** `toolchain-lock clean --json`: removes what dead parties left (status only looks); returns what it removed. */
export function cliClean(lockDir) {
  const r = spawnSync(process.execPath, [cliPath, 'clean', '--json', '--lock-dir', lockDir], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (r.status !== 0) throw new Error(`toolchain-lock clean failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout);
}

// ---- real processes --------------------------------------------------------------------------

function readProc(pid, file) {
  try {
    return fs.readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return null;
  }
}

/** argv of a live (non-zombie) process, or null. */
export function processArgv(pid) {
  const stat = readProc(pid, 'stat');
  if (stat === null || / Z /.test(stat.slice(stat.lastIndexOf(')') + 1, stat.lastIndexOf(')') + 4)))
    return null;
  const cmdline = readProc(pid, 'cmdline');
  return cmdline ? cmdline.split('\0').filter(Boolean) : null;
}

export function isAlive(pid) {
  return processArgv(pid) !== null;
}

function parentPid(pid) {
  const stat = readProc(pid, 'stat');
  return stat === null ? null : Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

/**
 * The demo language servers running from `toolchainDir` (typescript-language-server started by
 * its launcher), each with its parent: the extension host that started it.
 */
export function languageServers(toolchainDir) {
  // As the launcher spells it (path.join would normalize the `..` away).
  const script = `${toolchainDir}/bin/../node_modules/typescript-language-server/lib/cli.mjs`;
  const out = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const argv = processArgv(name);
    if (argv?.includes(script)) out.push({ pid: Number(name), ppid: parentPid(name) });
  }
  return out.sort((a, b) => a.pid - b.pid);
}

/** True if `pid` is one of code-server's extension hosts. */
export function isExtensionHost(pid) {
  return (processArgv(pid) ?? []).includes('--type=extensionHost');
}

/** The extension hosts of one code-server (its process group: other code-servers may run too). */
export function extensionHostsOf(server) {
  const out = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || !isExtensionHost(Number(name))) continue;
    const stat = readProc(name, 'stat');
    const pgrp = stat === null ? null : Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
    if (pgrp === server.process.pid) out.push(Number(name));
  }
  return out.sort((a, b) => a - b);
}

/**
 * Samples the toolchain every 50 ms while an update may run: the VERSION file the demo update
 * rewrites ("updating" while it runs), the language servers alive at that moment, and the client
 * of the lock's writer. `stop()` returns the samples.
 */
export function sampleDuringUpdate(toolchainDir, lockDir) {
  const samples = [];
  const timer = setInterval(() => {
    let version;
    try {
      version = fs.readFileSync(path.join(toolchainDir, 'VERSION'), 'utf8').trim();
    } catch {
      version = '?';
    }
    const servers = languageServers(toolchainDir).map((s) => s.pid);
    const lock = lockOf(lockDir, toolchainDir);
    samples.push({
      version,
      servers,
      writer: lock?.state === 'write' ? (lock.writer?.client ?? null) : null,
    });
  }, 50);
  // A scenario that fails before stop() must not keep the test process alive for ever.
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      return samples;
    },
  };
}

/** Resolves like `promise`, or rejects after `ms` naming `what`. */
export function within(ms, what, promise) {
  let timer;
  const timeout = new Promise(
    (_, reject) =>
      (timer = setTimeout(
        () => reject(new Error(`timed out after ${ms / 1000} s waiting for ${what}`)),
        ms,
      )),
  );
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// ---- the workbench ---------------------------------------------------------------------------

export function statusItem(page) {
  return page.locator(`[id="workbench.parts.statusbar"] [id="${STATUS_ITEM}"]`);
}

/** What a user sees in the status bar item: its text, its icon, its tooltip (as Markdown). */
export async function statusView(page) {
  const item = statusItem(page);
  await item.waitFor({ timeout: 30_000 });
  return item.evaluate((el) => ({
    text: el.innerText.trim(),
    icons: [...el.querySelectorAll('.codicon')].map((i) => i.className),
    spinning: el.querySelector('.codicon-modifier-spin') !== null,
    tooltip: el.getAttribute('aria-label') ?? '',
  }));
}

/** Waits until the status bar item satisfies `ok(view)`; returns that view. */
export function waitForStatus(page, what, ok, options) {
  return waitFor(
    `status bar: ${what}`,
    async (saw) => {
      const view = await statusView(page);
      saw({ text: view.text, icons: view.icons });
      return ok(view) && view;
    },
    options,
  );
}

/** Texts of the notification toasts shown now. */
export function notificationTexts(page) {
  return page
    .locator('.notifications-toasts .notification-toast')
    .evaluateAll((els) => els.map((e) => e.innerText.replace(/\s+/g, ' ').trim()));
}

/** Waits until the notification toasts have slid in above the status bar (for a screenshot). */
export function toastsSettled(page) {
  return waitFor('the notification toasts to settle', () =>
    page.locator('.notifications-toasts').evaluate((el) => {
      const statusBar =
        document.getElementById('workbench.parts.statusbar')?.getBoundingClientRect().top ??
        window.innerHeight;
      const moving = el
        .getAnimations({ subtree: true })
        .some((a) => a instanceof CSSTransition && a.playState === 'running');
      return (
        !moving &&
        [...el.querySelectorAll('.notification-toast')].every(
          (t) => t.getBoundingClientRect().bottom <= statusBar,
        )
      );
    }),
  );
}

/** Rows of the open quick pick: label, description and detail as one text each. */
export function quickPickRows(page) {
  return page
    .locator('.quick-input-widget .quick-input-list .monaco-list-row')
    .evaluateAll((els) => els.map((e) => e.innerText.replace(/\s+/g, ' ').trim()));
}

// ---- diagnostics -----------------------------------------------------------------------------

function findFiles(dir, match, out = []) {
  let entries = [];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) findFiles(p, match, out);
    else if (match(p)) out.push(p);
  }
  return out;
}

/** The extension's own logs ("Toolchain Lock" log channel, one per extension host). */
export function extensionLogs(userDataDir) {
  return findFiles(
    path.join(userDataDir, 'logs'),
    (p) => /Toolchain Lock/.test(path.basename(p)) || /exthost\d*\/remoteexthost\.log$/.test(p),
  );
}

/** The text of every "Toolchain Lock.log" under userDataDir, joined. */
export function extensionLogText(userDataDir) {
  return findFiles(path.join(userDataDir, 'logs'), (p) => path.basename(p) === 'Toolchain Lock.log')
    .map((f) => fs.readFileSync(f, 'utf8'))
    .join('\n');
}

/**
 * Waits until the extension's log file matches every pattern, and returns its text. VS Code's
 * file logger writes on a short delay, so a line logged just before an event the test saw may
 * not be on disk yet.
 */
export function waitForLog(userDataDir, patterns, what = patterns.map(String).join(', ')) {
  return waitFor(
    `the extension to log ${what}`,
    (saw) => {
      const log = extensionLogText(userDataDir);
      saw(patterns.filter((p) => !p.test(log)).map(String));
      return patterns.every((p) => p.test(log)) && log;
    },
    { timeoutMs: 15_000 },
  );
}

/** Everything useful after a failure: code-server's output, the extension's logs, the lock dir. */
export function diagnostics(server, { lockDir } = {}) {
  const parts = [`--- code-server output (${server.url}) ---`, server.output().slice(-20_000)];
  for (const f of extensionLogs(server.userDataDir)) {
    parts.push(
      `--- ${path.relative(server.userDataDir, f)} ---`,
      fs.readFileSync(f, 'utf8').slice(-20_000),
    );
  }
  if (lockDir) {
    try {
      parts.push(
        `--- toolchain-lock status --json --lock-dir ${lockDir} ---`,
        JSON.stringify(cliStatus(lockDir), null, 2),
      );
    } catch (err) {
      parts.push(`--- status failed: ${err.message}`);
    }
  }
  return parts.join('\n');
}

/** Runs `body`; if it throws, prints the diagnostics and a last screenshot first. */
export async function explainFailure({ server, lockDir, page, name }, body) {
  try {
    return await body();
  } catch (err) {
    if (page && !page.isClosed()) {
      const { screenshot } = await import('./harness.mjs');
      await screenshot(page, `${name}-FAILED`).catch(() => undefined);
    }
    console.error(
      `\n===== ${name} failed: diagnostics =====\n${diagnostics(server, { lockDir })}\n===== end of diagnostics =====\n`,
    );
    throw err;
  }
}
