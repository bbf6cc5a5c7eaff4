import * as os from 'node:os';
import { isLockError, type LockErrorCode } from '../lock';
import { isToolchainError, type ToolchainErrorCode } from '../toolchains';

/** Exit statuses of toolchain-lock (docs/CLI.md). A command that ran exits with its own status. */
export const EXIT = {
  ok: 0,
  usage: 64,
  internal: 70,
  tempFail: 75,
  nested: 76,
  lockDir: 77,
  config: 78,
  notExecutable: 126,
  notFound: 127,
  interrupted: 130,
} as const;

/** The command line was wrong; the message says how to write it. */
export class UsageError extends Error {
  readonly code = 'E_USAGE';
  /** The command whose help to point at, if any. */
  readonly command: string | undefined;
  constructor(message: string, command?: string) {
    super(message);
    this.name = 'UsageError';
    this.command = command;
  }
}

interface Outcome {
  readonly status: number;
  /** Said after the error's own message: what to do about it. */
  readonly hint?: string;
}

/** The one table from error codes to exit statuses. Every code must be here (the type checks it). */
const BY_CODE: Readonly<Record<LockErrorCode | ToolchainErrorCode | 'E_USAGE', Outcome>> = {
  E_USAGE: { status: EXIT.usage, hint: 'See `toolchain-lock --help`.' },
  E_TIMEOUT: {
    status: EXIT.tempFail,
    hint: 'Try again when they are done, or give a longer --timeout.',
  },
  E_WOULD_BLOCK: {
    status: EXIT.tempFail,
    hint: 'Try again when they are done, or leave out --no-wait to wait for them.',
  },
  E_LOCK_HUNG: { status: EXIT.tempFail },
  E_LOCK_UNSUPPORTED: { status: EXIT.lockDir },
  E_LOCK_FAILED: {
    status: EXIT.internal,
    hint: 'The operating system refused a lock call it should allow; please report it with the message above.',
  },
  E_NESTED_WRITE: { status: EXIT.nested },
  E_LOCKDIR_UNSAFE: { status: EXIT.lockDir },
  E_LOCKDIR_UNWRITABLE: { status: EXIT.lockDir },
  E_LOCKFILE_UNSAFE: { status: EXIT.lockDir },
  E_UNKNOWN_TOOLCHAIN: { status: EXIT.config },
  E_NO_RUSTUP: { status: EXIT.config },
  E_BAD_TOML: { status: EXIT.config },
  E_SHIM_DIR: { status: EXIT.config },
  E_ABORTED: { status: EXIT.interrupted, hint: 'Nothing was run and no lock is held.' },
  E_NATIVE_MODULE: { status: EXIT.internal },
  E_UNLOCKED_PROCESSES: {
    status: EXIT.tempFail,
    hint: 'Nothing was run and no lock is held. Stop them and try again, or give --unlocked proceed to update anyway.',
  },
};

/** The status of a process killed by `signal`, as a shell reports it (128 + N). */
export function signalStatus(signal: NodeJS.Signals): number {
  return 128 + (os.constants.signals[signal] ?? 0);
}

function codeOf(err: unknown): keyof typeof BY_CODE | undefined {
  if (err instanceof UsageError) return 'E_USAGE';
  if (isLockError(err) || isToolchainError(err)) return err.code;
  return undefined;
}

/** Maps an error to its exit status and the line(s) to print on stderr. */
export function describeFailure(err: unknown): { status: number; message: string } {
  const code = codeOf(err);
  if (code === undefined) {
    const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
    return {
      status: EXIT.internal,
      message: `toolchain-lock: internal error: ${detail}\nThis is a bug in toolchain-lock; please report it with the command you ran.`,
    };
  }
  const outcome = BY_CODE[code];
  const message = (err as Error).message;
  let status = outcome.status;
  // Stopped by a signal while waiting: exit as a shell would for that signal (130 for Ctrl-C).
  const cause = (err as Error).cause;
  if (code === 'E_ABORTED' && typeof cause === 'string' && cause in os.constants.signals)
    status = signalStatus(cause as NodeJS.Signals);
  const sentence = /[.!?)`]$/.test(message) ? message : `${message}.`;
  const hint =
    err instanceof UsageError && err.command
      ? `See \`toolchain-lock help ${err.command}\`.`
      : outcome.hint;
  return { status, message: `toolchain-lock: ${sentence}${hint ? ` ${hint}` : ''}` };
}
