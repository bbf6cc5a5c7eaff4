// The one rule for the command that updates toolchains when the user gave none: the CLI's
// `update`, the extension's "Update toolchain safely" and resolution all ask here.
import type { ResolvedToolchain } from './types';

/** What updates a rustup toolchain (never a linked one: rustup cannot update those). */
export function rustupUpdateCommand(names: readonly string[]): readonly string[] {
  return ['rustup', 'update', ...names];
}

/** The default update of some toolchains, or why there is none. */
export type DefaultUpdate =
  | { readonly argv: readonly string[] }
  /** Made with `rustup toolchain link` and nothing configured: no program is known to update it. */
  | { readonly linked: ResolvedToolchain }
  /** Neither rustup's nor configured with an update command. */
  | { readonly unmanaged: readonly ResolvedToolchain[] };

/**
 * One toolchain: its configured (or rustup's) update command. Several: one `rustup update` of all
 * of them, when rustup manages every one.
 */
export function updateCommandOf(toolchains: readonly ResolvedToolchain[]): DefaultUpdate {
  const only = toolchains.length === 1 ? toolchains[0] : undefined;
  if (only?.updateCommand && only.updateCommand.length > 0) return { argv: only.updateCommand };
  const linked = toolchains.find((t) => t.linked);
  if (linked) return { linked };
  const names = toolchains.map((t) => t.rustupName);
  if (names.every((n): n is string => n !== undefined)) return { argv: rustupUpdateCommand(names) };
  return { unmanaged: toolchains.filter((t) => t.rustupName === undefined) };
}
