// Names → canonical toolchain directories (plain paths, rustup). No locking here.
export type { ConfiguredToolchain, ResolvedToolchain } from './types';
export { ToolchainError, isToolchainError, type ToolchainErrorCode } from './errors';
export {
  rustupHome,
  listRustupToolchains,
  hostTriple,
  isChannelName,
  NO_AUTO_INSTALL_ENV,
  rustupAutoInstalls,
} from './rustup';
export { isPathSpec, resolveToolchain, type ResolveOptions } from './resolve';
export {
  activeRustupToolchain,
  commandLineToolchain,
  rustupNamed,
  whichToolchain,
  type ActiveToolchain,
  type ToolchainSource,
  type ToolchainWants,
} from './active';
export { configuredFromEnv, TOOLCHAINS_ENV } from './from-env';
export {
  rustupInstallCommand,
  rustupLockPlan,
  rustupWrites,
  type RustupLockPlan,
  type RustupPlanOptions,
} from './rustup-commands';
export { rustupUpdateCommand, updateCommandOf, type DefaultUpdate } from './update-command';
export {
  SHIM_MANIFEST,
  SHIM_TOOLCHAIN_ENV,
  shimMarker,
  shimScript,
  shimFileName,
  shQuote,
  type ShimRuntime,
} from './shim-script';
export {
  findReal,
  pathEntries,
  programIn,
  sameDir,
  shimPathReport,
  type ShimPathReport,
} from './shim-path';
export {
  cargoBinDir,
  defaultShimDir,
  findRustup,
  installShims,
  rustupPrograms,
  SHIM_DIR_ENV,
  uninstallShims,
  writeAtomically,
  type ShimInstall,
} from './shim-dir';
