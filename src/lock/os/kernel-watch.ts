// The kernel's own wake-ups (Linux: inotify, read by a thread of our native module): changes in
// the lock directory, and every close of a lock or gate file, which is how a SIGKILLed holder's
// release becomes visible at once. One native watcher per process, one inotify watch per path.
import * as path from 'node:path';
import { nativeLock } from './native';

export type KernelEventKind =
  'entry' | 'dir-entry' | 'change' | 'close' | 'open' | 'overflow' | 'gone' | 'failed';
/**
 * "entries": names in a directory that appear or go; "arrivals": only those that appear;
 * "changes": entries (subdirectories too) plus writes and mode changes of its files;
 * "closes" / "opens-closes": a file's descriptors.
 */
export type WatchWhat = 'entries' | 'arrivals' | 'changes' | 'closes' | 'opens-closes';

/** What the native module offers on Linux (native/watch_linux.c). */
interface NativeWatch {
  watchStart(callback: (wd: number, kind: KernelEventKind, name: string) => void): void;
  watchAdd(file: string, what: WatchWhat): number;
  watchRemove(wd: number): void;
  watchKeepAlive(on: boolean): void;
}

/** Called with the path watched, the kind, and for a directory the name of the entry ("failed": why). */
export type KernelListener = (watched: string, kind: KernelEventKind, name: string) => void;

interface PathWatch {
  wd: number;
  what: WatchWhat;
  /** Each listener with what it asked for: the watch is the widest of them. */
  readonly listeners: Map<KernelListener, WatchWhat>;
}

const byPath = new Map<string, PathWatch>();
const byWd = new Map<number, string>();
let native: NativeWatch | null | undefined;
let keepAlive = 0;
/** Why the native watcher's thread ended, once it has: no event comes any more. */
let failure: string | null = null;

function nativeWatch(): NativeWatch | null {
  if (native !== undefined) return native;
  const m = nativeLock() as unknown as Partial<NativeWatch>;
  if (typeof m.watchStart !== 'function') return (native = null);
  m.watchStart((wd, kind, name) => {
    if (kind === 'failed') {
      // Every watch is dead: its listeners must poll from now on, and nobody may add a new one.
      failure = `the kernel watcher thread stopped on ${name}`;
      const all = [...byPath];
      byPath.clear();
      byWd.clear();
      for (const [watched, w] of all)
        for (const l of [...w.listeners.keys()]) l(watched, kind, failure);
      return;
    }
    if (kind === 'overflow') {
      // The kernel dropped events: everyone re-checks everything.
      for (const [watched, w] of byPath)
        for (const l of [...w.listeners.keys()]) l(watched, kind, '');
      return;
    }
    const watched = byWd.get(wd);
    const w = watched === undefined ? undefined : byPath.get(watched);
    if (!w || watched === undefined) return;
    if (kind === 'gone') {
      byWd.delete(wd);
      byPath.delete(watched);
    }
    for (const l of [...w.listeners.keys()]) l(watched, kind, name);
  });
  return (native = m as NativeWatch);
}

/** Whether the native watcher's thread has ended (a "failed" event): no kernel watch works any more. */
export function kernelWatchFailed(): boolean {
  return failure !== null;
}

/** Whether this platform's kernel can wake us (a native watcher exists). */
export function kernelWatchAvailable(): boolean {
  try {
    return nativeWatch() !== null;
  } catch {
    return false;
  }
}

// Within one kind of path (a directory, a lock file), a wider watch reports everything a narrower one does.
const WIDER: Record<WatchWhat, number> = {
  arrivals: 0,
  entries: 1,
  changes: 2,
  closes: 0,
  'opens-closes': 1,
};

function widest(listeners: ReadonlyMap<KernelListener, WatchWhat>): WatchWhat | undefined {
  let out: WatchWhat | undefined;
  for (const what of listeners.values())
    if (out === undefined || WIDER[what] > WIDER[out]) out = what;
  return out;
}

/**
 * Watches `file` for `what` until disposed. Throws the system error when the kernel refuses
 * (e.g. ENOSPC: the user's inotify watch limit), or once the watcher thread has failed; callers
 * then poll instead, as they do when a "failed" event ends their watch. A listener may also
 * hear events a wider watch of the same path brings.
 */
export function kernelWatch(
  file: string,
  what: WatchWhat,
  listener: KernelListener,
): { dispose(): void } {
  const w = nativeWatch();
  if (!w) throw new Error('kernel wake-ups are not available on this platform');
  if (failure !== null) throw new Error(failure);
  const absolute = path.resolve(file);
  let entry = byPath.get(absolute);
  if (!entry || WIDER[what] > WIDER[entry.what]) {
    // Adding a path again replaces its mask: widen an existing watch here, narrow it on dispose.
    const wd = w.watchAdd(absolute, what);
    if (!entry) {
      entry = { wd, what, listeners: new Map() };
      byPath.set(absolute, entry);
    }
    entry.wd = wd;
    entry.what = what;
    byWd.set(wd, absolute);
  }
  const watch = entry;
  watch.listeners.set(listener, what);
  let disposed = false;
  return {
    dispose() {
      if (disposed) return;
      disposed = true;
      watch.listeners.delete(listener);
      if (byPath.get(absolute) !== watch) return;
      const next = widest(watch.listeners);
      if (next === undefined) {
        byPath.delete(absolute);
        byWd.delete(watch.wd);
        w.watchRemove(watch.wd);
      } else if (next !== watch.what) {
        // Events nobody asked for any more would still wake every listener left (and the process).
        try {
          watch.wd = w.watchAdd(absolute, next);
          watch.what = next;
          byWd.set(watch.wd, absolute);
        } catch {
          // The path went away: its "gone" event ends the watch.
        }
      }
    },
  };
}

/** Counts parties that must keep the process alive while they wait for a kernel event. */
export function holdProcessOpen(): { dispose(): void } {
  const w = nativeWatch();
  if (w && keepAlive++ === 0) w.watchKeepAlive(true);
  let disposed = false;
  return {
    dispose() {
      if (disposed || !w) return;
      disposed = true;
      if (--keepAlive === 0) w.watchKeepAlive(false);
    },
  };
}
