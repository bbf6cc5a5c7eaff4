// "Install missing toolchain": a rustup toolchain a folder's rules name (rust-toolchain.toml, a
// rustup override, RUSTUP_TOOLCHAIN, the default) that rustup has not installed, so the servers on
// it cannot start. Said once per toolchain, with the action; the install runs as an update does
// (update.ts): `rustup toolchain install NAME` under the write lock of the directory rustup will
// create — the same key before and after —, output in the update log; then the servers are retried.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { toolchainKey } from '../../lock';
import { isChannelName, rustupInstallCommand } from '../../toolchains';
import type { Ctx } from '../ctx';
import { bilingual, english, type Messages } from '../l10n';
import type { MissingToolchain } from '../servers';
import { runUnderWriteLock } from './update';

// Buttons: looked up when shown, so a choice is compared with the same translated label.
const installLabel = (): string => vscode.l10n.t('Install toolchain');
const trustLabel = (): string => vscode.l10n.t('Manage Workspace Trust');
const logLabel = (): string => vscode.l10n.t('Open log');

/**
 * The argv that installs `m` with the components, targets and profile its toolchain file asks
 * for, or undefined when rustup cannot install it by name (a custom toolchain).
 */
export function installCommandOf(
  m: MissingToolchain,
): { argv: readonly string[]; skipped: readonly string[] } | undefined {
  const name = m.toolchain.rustupName;
  // Only channel names and plain component names: nothing a workspace file says reaches rustup's
  // command line as an option.
  return name !== undefined && isChannelName(name)
    ? rustupInstallCommand(name, m.wants)
    : undefined;
}

/** Which rule names the toolchain, as a clause: "rust-toolchain.toml in /proj pins it". */
function namedBy(m: MissingToolchain, l10n: Messages = vscode.l10n): string {
  switch (m.source) {
    case 'toolchain-file':
      return m.sourceFile
        ? l10n.t('{0} in {1} pins it', path.basename(m.sourceFile), path.dirname(m.sourceFile))
        : l10n.t('a toolchain file pins it for {0}', m.folder);
    case 'override':
      return l10n.t('a rustup override pins it for {0}', m.folder);
    case 'env':
      return l10n.t('RUSTUP_TOOLCHAIN names it');
    case 'default':
      return l10n.t('it is rustup’s default toolchain');
    case 'setting':
      return l10n.t('the toolchainLock settings name it');
  }
}

/**
 * The name came from a file of a workspace the user has not trusted: installing would let that
 * workspace choose what is downloaded and run. Overrides, RUSTUP_TOOLCHAIN and the default are the
 * user's own, as is the rustup on PATH (never a command from workspace settings).
 */
function needsTrust(m: MissingToolchain): boolean {
  return !vscode.workspace.isTrusted && m.source === 'toolchain-file';
}

function describe(m: MissingToolchain, l10n: Messages = vscode.l10n): string {
  const [name, why, units] = [m.shown.name, namedBy(m, l10n), m.units.join(', ')];
  return m.units.length === 1
    ? l10n.t('Toolchain {0} is not installed: {1}, and {2} needs it.', name, why, units)
    : l10n.t('Toolchain {0} is not installed: {1}, and {2} need it.', name, why, units);
}

const notInstallable = (): string =>
  vscode.l10n.t(
    'rustup cannot install it by name; install or link it with rustup (rustup toolchain link NAME DIR), then retry.',
  );
const untrusted = (): string =>
  vscode.l10n.t(
    'This workspace is untrusted and the name comes from its files: trust it to install the toolchain from here.',
  );

function manageTrust(ctx: Ctx): void {
  vscode.commands
    .executeCommand('workbench.trust.manage')
    .then(undefined, (err: unknown) => ctx.log.warn(`cannot open workspace trust: ${String(err)}`));
}

/** The notification for one missing toolchain: the install action when it may run, else why not. */
function showOffer(ctx: Ctx, m: MissingToolchain): void {
  ctx.log.warn(describe(m, english));
  const [install, trust, log] = [installLabel(), trustLabel(), logLabel()];
  const [extra, items] = !installCommandOf(m)
    ? [notInstallable(), []]
    : needsTrust(m)
      ? [untrusted(), [trust]]
      : ['', [install]];
  void vscode.window
    // Two sentences, joined by a message: not every language puts a space between them.
    .showWarningMessage(
      extra ? vscode.l10n.t('{0} {1}', describe(m), extra) : describe(m),
      ...items,
      log,
    )
    .then((choice) => {
      if (choice === install) void installMissing(ctx, m);
      if (choice === trust) manageTrust(ctx);
      if (choice === log) ctx.log.show();
    });
}

const keyOf = (m: MissingToolchain): string => toolchainKey(m.toolchain.path);

/** The missing toolchains this window's servers need, each offered once (again once trust changes). */
export class InstallOffers {
  private missing: readonly MissingToolchain[] = [];
  private readonly offered = new Set<string>();

  constructor(private readonly ctx: Ctx) {}

  /** Takes what the servers need now and offers what was not offered yet. */
  update(missing: readonly MissingToolchain[]): void {
    this.missing = missing;
    const keys = new Set(this.current().map(keyOf));
    for (const o of this.offered)
      if (!keys.has(o.slice(0, o.lastIndexOf('|')))) this.offered.delete(o);
    this.offer();
  }

  /** Offers every missing toolchain not offered yet in this trust state. */
  offer(): void {
    for (const m of this.current()) {
      const id = `${keyOf(m)}|${vscode.workspace.isTrusted}`;
      if (this.offered.has(id)) continue;
      this.offered.add(id);
      showOffer(this.ctx, m);
    }
  }

  /** Those still missing (an install from anywhere ends that). */
  current(): MissingToolchain[] {
    return this.missing.filter((m) => !fs.existsSync(m.toolchain.path));
  }

  /** True when the toolchain with this key is one of them: its servers' failures are the offer's to tell. */
  covers(key: string): boolean {
    return this.current().some((m) => keyOf(m) === key);
  }

  /** Installed: a later disappearance is offered anew. */
  forget(m: MissingToolchain): void {
    const key = keyOf(m);
    for (const o of this.offered) if (o.startsWith(`${key}|`)) this.offered.delete(o);
  }
}

/** Runs the install of `m` under its write lock, then retries the servers that failed for want of it. */
async function installMissing(ctx: Ctx, m: MissingToolchain): Promise<boolean> {
  const command = installCommandOf(m);
  if (!command) {
    const log = logLabel();
    void vscode.window
      .showErrorMessage(`${describe(m)} ${notInstallable()}`, log)
      .then((c) => c === log && ctx.log.show());
    return false;
  }
  if (needsTrust(m)) {
    const trust = trustLabel();
    void vscode.window
      .showErrorMessage(`${describe(m)} ${untrusted()}`, trust)
      .then((c) => c === trust && manageTrust(ctx));
    return false;
  }
  const { argv, skipped } = command;
  if (skipped.length > 0)
    ctx.log.warn(
      `${m.sourceFile ?? 'the toolchain file'} asks for ${skipped.map((v) => JSON.stringify(v)).join(', ')}, which rustup does not name that way: left out of the install`,
    );
  if (
    !(await runUnderWriteLock(ctx, {
      kind: 'install',
      toolchain: m.toolchain,
      label: m.shown.name,
      argv,
    }))
  )
    return false;
  if (!fs.existsSync(m.toolchain.path)) {
    const text = bilingual((l10n) =>
      l10n.t(
        '{0} succeeded, but {1} still does not exist: is rustup on PATH the one whose home is {2}?',
        argv.join(' '),
        m.toolchain.path,
        path.dirname(path.dirname(m.toolchain.path)),
      ),
    );
    ctx.log.error(text.english);
    const log = logLabel();
    void vscode.window.showErrorMessage(text.shown, log).then((c) => c === log && ctx.log.show());
    return false;
  }
  ctx.installs.forget(m);
  const key = keyOf(m);
  const failed = (ctx.coordinator?.snapshot() ?? [])
    .filter((t) => t.key === key)
    .flatMap((t) => t.units.filter((u) => u.failed !== null).map((u) => u.id));
  ctx.log.info(
    `${m.shown.name} installed; starting ${failed.join(', ') || 'nothing (no server waits for it)'}`,
  );
  const coordinator = ctx.coordinator;
  if (coordinator) await Promise.all(failed.map((id) => coordinator.retry(id)));
  return true;
}

/** The command handler (run once the window can lock: commands.ts); `name` picks one of the missing toolchains without asking. */
export async function installToolchain(ctx: Ctx, name?: string): Promise<boolean> {
  const missing = ctx.installs.current();
  if (missing.length === 0) {
    void vscode.window.showInformationMessage(
      vscode.l10n.t('No toolchain this window needs is missing.'),
    );
    return false;
  }
  let m: MissingToolchain | undefined;
  if (name !== undefined) {
    m = missing.find(
      (x) => x.shown.name === name || x.toolchain.name === name || x.toolchain.path === name,
    );
    if (!m)
      void vscode.window.showErrorMessage(
        vscode.l10n.t(
          '"{0}" is not a missing toolchain this window needs. Missing: {1}.',
          name,
          missing.map((x) => x.shown.name).join(', '),
        ),
      );
  } else if (missing.length === 1) {
    m = missing[0];
  } else {
    const items = missing.map((x) => ({
      label: x.shown.name,
      description: namedBy(x),
      detail: x.toolchain.path,
      missing: x,
    }));
    m = (
      await vscode.window.showQuickPick(items, {
        title: vscode.l10n.t('Install missing toolchain'),
        placeHolder: vscode.l10n.t('Which toolchain?'),
      })
    )?.missing;
  }
  return m ? installMissing(ctx, m) : false;
}
