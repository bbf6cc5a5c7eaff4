/** Stable codes for toolchain lookups; the CLI maps them to exit statuses, the extension to messages. */
export type ToolchainErrorCode =
  'E_UNKNOWN_TOOLCHAIN' | 'E_NO_RUSTUP' | 'E_BAD_TOML' | 'E_SHIM_DIR';

/** A toolchain spec that names nothing we can lock; the message lists what is known and where we looked. */
export class ToolchainError extends Error {
  readonly code: ToolchainErrorCode;
  /** Names of the toolchains that were known when the lookup failed. */
  readonly known: readonly string[];
  constructor(
    code: ToolchainErrorCode,
    message: string,
    known: readonly string[] = [],
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'ToolchainError';
    this.code = code;
    this.known = known;
  }
}

/** True when `err` is a ToolchainError (optionally with one of the given codes). */
export function isToolchainError(
  err: unknown,
  ...codes: ToolchainErrorCode[]
): err is ToolchainError {
  return err instanceof ToolchainError && (codes.length === 0 || codes.includes(err.code));
}
