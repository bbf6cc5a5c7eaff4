import { spawn } from 'node:child_process';
import { EXIT, signalStatus } from './exit-codes';
import { say } from './common';

const TRAPPED: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** Catches SIGINT/SIGTERM/SIGHUP for the life of a command; what they do changes as it runs. */
export interface SignalTrap {
  /** The first signal received, if any. */
  readonly received: NodeJS.Signals | null;
  /** Handles the signals received from now on (abort a wait, forward to a child). */
  setHandler(handler: (signal: NodeJS.Signals) => void): void;
  dispose(): void;
}

export function trapSignals(): SignalTrap {
  let received: NodeJS.Signals | null = null;
  let handler: (signal: NodeJS.Signals) => void = () => {};
  const listeners = TRAPPED.map((signal) => {
    const listener = (): void => {
      received ??= signal;
      handler(signal);
    };
    process.on(signal, listener);
    return [signal, listener] as const;
  });
  return {
    get received() {
      return received;
    },
    setHandler(h) {
      handler = h;
    },
    dispose() {
      for (const [signal, listener] of listeners) process.off(signal, listener);
    },
  };
}

export interface ChildOptions {
  /** Lock descriptors the child inherits as fds 3, 4, ...: the lock outlives us while it runs. */
  readonly fds: readonly number[];
  readonly env: NodeJS.ProcessEnv;
  readonly trap: SignalTrap;
  /** Called with the child's pid as soon as it exists. */
  readonly onSpawn: (pid: number) => void;
  /**
   * The trapped signals passed on to the child (default: all). A shim leaves out SIGINT: the
   * terminal sends Ctrl-C to its whole foreground process group, the child included, and a
   * second copy from us would reach the program twice.
   */
  readonly forward?: readonly NodeJS.Signals[];
  /** The child's stdout goes to our stderr (an install run before the program the user asked for). */
  readonly stdoutToStderr?: boolean;
  /** Told the signal that killed the child, or null when it exited. */
  readonly onExit?: (signal: NodeJS.Signals | null) => void;
}

/**
 * Runs `cmd` (an argument array, never a shell string) with the lock descriptors, forwards the
 * trapped signals to it, and resolves with the status to exit with: its own, 128+N when signal N
 * killed it, 127 when it was not found, 126 when it could not be executed.
 */
export function runChild(cmd: readonly string[], options: ChildOptions): Promise<number> {
  const [program, ...args] = cmd as [string, ...string[]];
  let child;
  try {
    child = spawn(program, args, {
      stdio: ['inherit', options.stdoutToStderr ? 2 : 'inherit', 'inherit', ...options.fds],
      env: options.env,
    });
  } catch (err) {
    // Node throws, rather than emitting 'error', for start failures it does not expect (ENOTDIR;
    // spawn UNKNOWN when Windows' CreateProcess fails): the same failure to start, said the same.
    return Promise.resolve(startFailed(program, err as NodeJS.ErrnoException));
  }
  if (child.pid !== undefined) {
    try {
      options.onSpawn(child.pid);
    } catch (err) {
      // CMD runs and holds the lock through its descriptor either way; only the record lacks it.
      say(
        `warning: could not record ${program} (pid ${child.pid}) as holding the lock: ${(err as Error).message}`,
      );
    }
  }
  options.trap.setHandler((signal) => {
    if (options.forward && !options.forward.includes(signal)) return;
    try {
      child.kill(signal);
    } catch {
      // Already gone: its exit is on its way.
    }
  });
  return new Promise((resolve) => {
    let settled = false;
    const settle = (status: number): void => {
      if (settled) return;
      settled = true;
      options.trap.setHandler(() => {});
      resolve(status);
    };
    child.once('error', (err) => {
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) return;
      settle(startFailed(program, err));
    });
    child.once('exit', (code, signal) => {
      options.onExit?.(signal);
      settle(code ?? (signal ? signalStatus(signal) : EXIT.internal));
    });
  });
}

/** Says why `program` did not start; returns the status to exit with (127 not found, else 126). */
function startFailed(program: string, err: NodeJS.ErrnoException): number {
  if (err.code === 'ENOENT') {
    // A name with a directory in it is never looked up in PATH: that file is missing.
    say(
      /[\\/]/.test(program)
        ? `cannot run ${program}: no such file. Check the path.`
        : `cannot run ${program}: command not found in PATH. Check the name, or give its full path.`,
    );
    return EXIT.notFound;
  }
  if (err.code === 'ENOTDIR') {
    say(
      `cannot run ${program}: a part of its path is a file, not a directory (ENOTDIR). Check the path.`,
    );
    return EXIT.notExecutable;
  }
  say(
    `cannot run ${program}: ${err.code === 'EACCES' ? 'permission denied (is it executable?)' : err.message}.`,
  );
  return EXIT.notExecutable;
}

/** Runs `cmd` holding no lock (none is needed, or an ancestor holds it), with signals trapped for it. */
export async function runUnlocked(
  cmd: readonly string[],
  options: { readonly env: NodeJS.ProcessEnv } & Pick<ChildOptions, 'forward' | 'onExit'>,
): Promise<number> {
  const trap = trapSignals();
  try {
    return await runChild(cmd, { ...options, fds: [], trap, onSpawn: () => {} });
  } finally {
    trap.dispose();
  }
}
