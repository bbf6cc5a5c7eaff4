// The lock state machine of a window, without `vscode` (lint keeps it so, and unit tests run it
// on a fake): one coordinator per window, the server slots it starts and stops, and what it needs
// of a language server (ServerUnit), whoever owns it.
export {
  LockCoordinator,
  type Logger,
  type UnlockedChangeInfo,
  type StepAside,
  type StoppedUnlocked,
  type ToolchainSnapshot,
} from './coordinator';
export { Serial, type ServerUnit, type UnitExit } from './server-unit';
