// Names → canonical toolchain directories (plain paths, rustup). No locking here.
export type { ConfiguredToolchain, ResolvedToolchain } from './types';
export { ToolchainError, isToolchainError, type ToolchainErrorCode } from './errors';
export { rustupHome, listRustupToolchains, hostTriple, isChannelName, NO_AUTO_INSTALL_ENV } from './rustup';
export { isPathSpec, resolveToolchain, type ResolveOptions } from './resolve';
export { activeRustupToolchain, commandLineToolchain, rustupNamed, whichToolchain, type ActiveToolchain, type ToolchainSource, type ToolchainWants } from './active';
export { configuredFromEnv, TOOLCHAINS_ENV } from './from-env';
export { rustupInstallCommand, rustupLockPlan, rustupWrites, type RustupLockPlan, type RustupPlanOptions } from './rustup-commands';
export { rustupUpdateCommand, updateCommandOf, type DefaultUpdate } from './update-command';
