// What a user asks for: update a toolchain safely, install a missing one, show who holds which
// lock, and the command runner they share.
export { InstallOffers, installToolchain } from './install';
export { showLocks } from './show-locks';
export { defaultUpdateOf, updateLogs, updateLogStem, updateToolchain } from './update';
