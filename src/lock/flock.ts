import { LockError, errnoCode } from './errors';
import { posixWouldBlockCodes } from './flock-posix';
import { windowsWouldBlockCodes } from './flock-windows';

export type FlockMode = 'read' | 'write';

interface FsExt {
  flockSync(fd: number, flags: string): void;
  flock(fd: number, flags: string, callback: (err: Error | null) => void): void;
}

let loaded: FsExt | undefined;
let loadError: LockError | undefined;

/** Describes the runtime that must load the native module (Node or Electron, and its ABI). */
export function runtimeDescription(): string {
  const electron = process.versions.electron;
  const abi = process.versions.modules;
  return electron ? `Electron ${electron} (ABI ${abi})` : `Node ${process.versions.node} (ABI ${abi})`;
}

/** Loads fs-ext once; a runtime whose ABI does not match gets an error that says how to fix it. */
export function nativeFlock(): FsExt {
  if (loaded) return loaded;
  if (loadError) throw loadError;
  try {
    // A static import would make the whole engine unloadable when the addon is missing; the
    // extension must still start and say what is wrong.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    loaded = require('fs-ext') as FsExt;
    return loaded;
  } catch (cause) {
    loadError = new LockError(
      'E_NATIVE_MODULE',
      `The native lock module (fs-ext) could not be loaded in ${runtimeDescription()}: ` +
        `${cause instanceof Error ? cause.message : String(cause)}. ` +
        'It must be built for this runtime: reinstall the build of Toolchain Lock made for this editor, ' +
        'or run `npm rebuild fs-ext` (Node) / `npx @electron/rebuild -w fs-ext` (Electron).',
      { cause },
    );
    throw loadError;
  }
}

const wouldBlock = new Set(process.platform === 'win32' ? windowsWouldBlockCodes : posixWouldBlockCodes);

/** Tries to take the lock without blocking; false when someone else holds a conflicting lock. */
export function tryLock(fd: number, mode: FlockMode): boolean {
  try {
    nativeFlock().flockSync(fd, mode === 'read' ? 'shnb' : 'exnb');
    return true;
  } catch (err) {
    if (wouldBlock.has(errnoCode(err) ?? '')) return false;
    throw err;
  }
}

/** Like tryLock, but on the thread pool and bounded: a hung network lock service cannot freeze us. */
export function tryLockBounded(fd: number, mode: FlockMode, limitMs: number, where: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(
        new LockError(
          'E_LOCK_HUNG',
          `The lock call on ${where} did not return within ${limitMs} ms. The file system's lock ` +
            'service is not answering (on NFS: is lockd/statd running?). Set TOOLCHAIN_LOCK_DIR to a ' +
            'directory on a local file system if all users of this toolchain are on this machine.',
        ),
      );
    }, limitMs);
    nativeFlock().flock(fd, mode === 'read' ? 'shnb' : 'exnb', (err) => {
      clearTimeout(timer);
      if (!err) resolve(true);
      else if (wouldBlock.has(errnoCode(err) ?? '')) resolve(false);
      else reject(err);
    });
  });
}

/** Drops whatever lock this descriptor holds. */
export function unlock(fd: number): void {
  nativeFlock().flockSync(fd, 'un');
}
