// Loads our Node-API lock module (native/) for this platform: prebuilds/<platform>-<arch>/ beside
// dist/, in the VSIX and in the build tree alike. Node-API is ABI-stable, so one binary serves
// every Node and Electron of its platform.
import * as path from 'node:path';
import { LockError } from '../errors';

/** The module's surface (native/lock.c). Handles are descriptors, or Windows HANDLE values. */
export interface NativeLock {
  open(file: string): number;
  tryLock(handle: number, exclusive: boolean): boolean;
  /** The same try on a thread of the module's own; the callback never keeps the process alive. */
  tryLockAsync(
    handle: number,
    exclusive: boolean,
    callback: (err: Error | null, taken: boolean) => void,
  ): void;
  unlock(handle: number): void;
  close(handle: number): void;
}

/** The targets release builds carry a binary for. */
export const PREBUILT_TARGETS = [
  'linux-x64',
  'linux-arm64',
  'darwin-x64',
  'darwin-arm64',
  'win32-x64',
  'win32-arm64',
] as const;

let loaded: NativeLock | undefined;
let loadError: LockError | undefined;

/** Describes the runtime that loads the native module (Node or Electron, and its ABI). */
export function runtimeDescription(): string {
  const electron = process.versions.electron;
  const abi = process.versions.modules;
  return electron
    ? `Electron ${electron} (ABI ${abi})`
    : `Node ${process.versions.node} (ABI ${abi})`;
}

/** Where the binary for this platform is looked for. */
export function nativeModulePath(): string {
  return path.join(
    __dirname,
    '..',
    'prebuilds',
    `${process.platform}-${process.arch}`,
    'toolchain_lock.node',
  );
}

/** Loads the module once; a missing or unloadable binary gives one error that says what to do. */
export function nativeLock(): NativeLock {
  if (loaded) return loaded;
  if (loadError) throw loadError;
  const file = nativeModulePath();
  const target = `${process.platform}-${process.arch}`;
  try {
    // A static import would make the whole engine unloadable when the binary is missing; the
    // extension must still start and say what is wrong.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a path known only at run time
    loaded = require(file) as NativeLock;
    return loaded;
  } catch (cause) {
    const missing = (cause as NodeJS.ErrnoException)?.code === 'MODULE_NOT_FOUND';
    const supported = (PREBUILT_TARGETS as readonly string[]).includes(target);
    const what = missing
      ? `there is no native lock module for ${target} (looked for ${file})`
      : `the native lock module for ${target} (${file}) could not be loaded: ${cause instanceof Error ? cause.message : String(cause)}`;
    const todo = supported
      ? missing
        ? 'Reinstall the extension (a complete VSIX carries it), or build it in a checkout with `npm ci` / `node scripts/build-native.mjs`.'
        : 'The file is damaged or was built for another platform: reinstall the extension, or rebuild it with `node scripts/build-native.mjs`.'
      : `Toolchain Lock ships binaries for ${PREBUILT_TARGETS.join(', ')}; on ${target}, build one from source in a checkout with \`node scripts/build-native.mjs\` (needs a C compiler).`;
    loadError = new LockError(
      'E_NATIVE_MODULE',
      `Toolchain Lock cannot lock in ${runtimeDescription()} on ${target}: ${what}. ${todo}`,
      { cause },
    );
    throw loadError;
  }
}
