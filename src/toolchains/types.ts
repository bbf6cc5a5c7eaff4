/** A toolchain the user configured by name (extension settings, CLI config). */
export interface ConfiguredToolchain {
  readonly name: string;
  /** Its directory; `~` and relative paths are allowed. */
  readonly path?: string;
  /** Or the rustup toolchain it stands for (`stable`, `nightly-2026-01-01`, ...). */
  readonly rustup?: string;
  /** The program and arguments that update it. */
  readonly updateCommand?: readonly string[];
}

/** A toolchain resolved to the canonical directory its lock is keyed on. */
export interface ResolvedToolchain {
  readonly name: string;
  /** Canonical path of the toolchain directory (PROTOCOL.md §2): real, except that a last component that is a symlink stays the link. */
  readonly path: string;
  readonly kind: 'rustup' | 'path' | 'configured';
  /** The rustup toolchain name (directory name in $RUSTUP_HOME/toolchains), when rustup manages it. */
  readonly rustupName?: string;
  /** What updates it by default, when known. */
  readonly updateCommand?: readonly string[];
  /** A rustup toolchain that is not installed (yet): `path` is where rustup will install it. */
  readonly missing?: true;
  /** A rustup toolchain made with `rustup toolchain link`: rustup cannot update it. */
  readonly linked?: true;
}
