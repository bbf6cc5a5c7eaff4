import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  acquireRead,
  acquireWrite,
  defaultLockDir,
  describeHolder,
  heldKeys,
  HELD_ENV,
  toolchainKey,
  WRITING_ENV,
  type LockHandle,
  type ReadLock,
} from '../lock';
import {
  findReal,
  programIn,
  rustupAutoInstalls,
  rustupInstallCommand,
  rustupNamed,
  shimMarker,
  shimPathReport,
  SHIM_TOOLCHAIN_ENV,
  whichToolchain,
  type ActiveToolchain,
} from '../toolchains';
import { runUnlocked, type ChildOptions } from './child';
import { say, warn } from './common';
import { EXIT, UsageError } from './exit-codes';
import { runLocked } from './locked';
import { runRustup } from './rustup';
import { unlockedChoiceFromEnv } from './unlocked';

/** How a shim runs the real program: which signals it passes on, and what it learns of its death. */
type ShimChild = Pick<ChildOptions, 'forward' | 'onExit'>;

/** The toolchain rustup picks for a call, and what its toolchain file asks rustup to install. */
type Chosen = Pick<ActiveToolchain, 'toolchain' | 'wants' | 'sourceFile'>;

interface ShimCall {
  readonly dir: string;
  readonly real: string | undefined;
  readonly electron: boolean;
  readonly program: string;
  readonly args: readonly string[];
}

/** `shims exec --dir DIR [--real PATH] [--electron] -- PROGRAM ARGS…`, as the shim scripts write it. */
function parseShimCall(argv: readonly string[]): ShimCall {
  let dir: string | undefined;
  let real: string | undefined;
  let electron = false;
  let i = 0;
  for (; i < argv.length && argv[i] !== '--'; i++) {
    const arg = argv[i]!;
    if (arg === '--dir') dir = argv[++i];
    else if (arg === '--real') real = argv[++i];
    else if (arg === '--electron') electron = true;
    else
      throw new UsageError(
        `\`shims exec\` is run by the shims, as \`shims exec --dir DIR [--real PATH] -- PROGRAM ARG…\`; unknown option ${arg}.`,
        'shims',
      );
  }
  const [program, ...args] = argv.slice(i + 1);
  if (dir === undefined || program === undefined)
    throw new UsageError(
      '`shims exec` is run by the shims, as `shims exec --dir DIR [--real PATH] -- PROGRAM ARG…`.',
      'shims',
    );
  return { dir, real: real || undefined, electron, program, args };
}

/** Says what is wrong with PATH, once per top-level call (a nested one was told already). */
function warnAboutPath(call: ShimCall, env: NodeJS.ProcessEnv): void {
  if (env[SHIM_TOOLCHAIN_ENV]) return;
  const report = shimPathReport(call.dir, call.program, env, process.platform, (a, b) => a === b);
  if (report.positions.length > 1)
    warn(
      `the shim directory ${call.dir} is on PATH ${report.positions.length} times; once is enough (\`toolchain-lock shell-init\` puts it there once).`,
    );
  if (report.ahead.length > 0) {
    warn(
      `${report.ahead[0]} comes before the shims in ${call.dir} on PATH, so a plain \`${call.program}\` runs ${path.join(report.ahead[0]!, call.program)} without the lock. Put the shims first: \`toolchain-lock shell-init\` at the end of your shell profile.`,
    );
  }
}

/** The locks ancestors hold, as their marker in our environment says. */
function heldByAncestor(key: string, env: NodeJS.ProcessEnv): boolean {
  return [HELD_ENV, WRITING_ENV].some((name) => heldKeys(env, name).has(key));
}

/**
 * A toolchain the call needs that is not installed: rustup's proxy would install it first. That
 * install runs under the toolchain's write lock (`rustup toolchain install`, with what the
 * toolchain file asks for), its output on stderr; resolves with its status. Null when there is
 * no rustup beside the proxy to install with: then the caller runs the call itself under the
 * write lock, and the proxy installs.
 */
async function installFirst(
  found: Chosen,
  real: string,
  env: NodeJS.ProcessEnv,
  lockDir: string,
  child: ShimChild,
): Promise<number | null> {
  const t = found.toolchain;
  const rustup = programIn(path.dirname(real), 'rustup', env);
  if (rustup === null) return null;
  const { argv, skipped } = rustupInstallCommand(t.rustupName!, found.wants);
  if (skipped.length > 0)
    warn(
      `not asking rustup to install ${skipped.join(', ')} from ${found.sourceFile}: not plain component, target or profile names.`,
    );
  return runLocked<LockHandle>({
    what: `write lock of ${t.name} (to install it)`,
    mode: 'write',
    cmd: [rustup, ...argv.slice(1)],
    env,
    child: { ...child, stdoutToStderr: true },
    // Someone else installed it while we waited: installing again would update it.
    needless: () => fs.existsSync(t.path),
    acquire: (options) => acquireWrite([t], { ...options, lockDir, env }),
  });
}

async function runProxy(
  call: ShimCall,
  real: string,
  env: NodeJS.ProcessEnv,
  lockDir: string,
  child: ShimChild,
): Promise<number> {
  const cmd = [real, ...call.args];
  const plus = call.args[0]?.startsWith('+') ? call.args[0].slice(1) : undefined;
  // rustup reads `+toolchain` first, then RUSTUP_TOOLCHAIN, overrides, toolchain files, the default.
  const found: Chosen | null =
    plus !== undefined
      ? { toolchain: rustupNamed(plus, env), sourceFile: null }
      : whichToolchain(process.cwd(), env);
  const childEnv = { ...env };
  delete childEnv[SHIM_TOOLCHAIN_ENV];
  // No toolchain applies: rustup says so itself, and there is nothing to lock.
  if (found === null) return runUnlocked(cmd, { ...child, env: childEnv });
  const t = found.toolchain;
  const marker = shimMarker(t, env);
  if (marker !== null) childEnv[SHIM_TOOLCHAIN_ENV] = marker;
  if (heldByAncestor(toolchainKey(t.path), env))
    return runUnlocked(cmd, { ...child, env: childEnv });
  if (t.missing && t.kind === 'rustup' && t.rustupName && rustupAutoInstalls(env)) {
    const installed = await installFirst(found, real, env, lockDir, child);
    if (installed === null) {
      return runLocked<LockHandle>({
        what: `write lock of ${t.name} (to install it)`,
        mode: 'write',
        cmd,
        env: childEnv,
        child,
        acquire: (options) => acquireWrite([t], { ...options, lockDir, env }),
      });
    }
    if (installed !== EXIT.ok) return installed;
  }
  return runLocked<ReadLock>({
    what: `read lock of ${t.name}`,
    mode: 'read',
    cmd,
    env: childEnv,
    child,
    acquire: (options) => acquireRead(t, { ...options, lockDir, env }),
    whileHeld: (lock) =>
      lock.onUpdatePending((writer) => {
        say(
          `an update of ${t.name} is waiting for \`${[call.program, ...call.args].join(' ')}\` to finish: ${describeHolder(writer)}. It starts when this command exits.`,
        );
      }),
  });
}

/**
 * What a shim runs (docs/CLI.md, "shims"): `rustup ARGS` as `toolchain-lock rustup ARGS`, any
 * other program under the read lock of the toolchain rustup picks for the call. The real program
 * keeps the terminal and the process group; a signal that killed it kills us the same way.
 */
export async function shimExecCommand(argv: readonly string[]): Promise<number> {
  const call = parseShimCall(argv);
  const env = { ...process.env };
  // Set by the shim for the Electron that runs us, not for the program the user asked for.
  if (call.electron) delete env.ELECTRON_RUN_AS_NODE;
  const real = call.real ?? findReal(call.program, call.dir, env);
  if (real === null) {
    say(
      `no real ${call.program} on PATH besides the shims in ${call.dir}. Install rustup, or put its directory (~/.cargo/bin) on PATH after the shims.`,
    );
    return EXIT.notFound;
  }
  warnAboutPath(call, env);
  let killedBy: NodeJS.Signals | null = null;
  // Ctrl-C and Ctrl-\ reach the program from the terminal; we stay until it is done.
  const child = {
    forward: ['SIGTERM', 'SIGHUP'] as NodeJS.Signals[],
    onExit: (signal: NodeJS.Signals | null) => void (killedBy = signal),
  };
  const ignoreQuit = (): void => {};
  if (process.platform !== 'win32') process.on('SIGQUIT', ignoreQuit);
  const lockDir = defaultLockDir(env);
  let status: number;
  try {
    status =
      call.program === 'rustup'
        ? await runRustup(call.args, {
            program: real,
            lockDir,
            pollIntervalMs: undefined,
            env,
            child,
            straightWhenHeld: true,
            unlocked: () => unlockedChoiceFromEnv(env, 'rustup'),
          })
        : await runProxy(call, real, env, lockDir, child);
  } finally {
    process.off('SIGQUIT', ignoreQuit);
  }
  if (killedBy !== null) reraise(killedBy);
  return status;
}

/** Dies of `signal` as the program did, so a shell sees what it would have seen without us. */
function reraise(signal: NodeJS.Signals): void {
  for (const listener of process.listeners(signal)) process.off(signal, listener as () => void);
  try {
    process.kill(process.pid, signal);
  } catch {
    // Not deliverable here (Windows): the 128+N status says it instead.
  }
}
