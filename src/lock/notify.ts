import * as fs from 'node:fs';

type Listener = (file: string | null) => void;

interface DirWatch {
  readonly listeners: Set<Listener>;
  watcher: fs.FSWatcher | null;
  pollers: Map<Listener, NodeJS.Timeout>;
}

const watches = new Map<string, DirWatch>();

/** A handle that stops what it started. */
export interface Disposable {
  dispose(): void;
}

export interface SubscribeOptions {
  /** Poll instead of (or as well as) inotify; required on network file systems. */
  readonly pollMs?: number;
  /** Whether inotify can be trusted here (local file system). */
  readonly useWatcher: boolean;
  /** Whether the subscription may keep the process alive (waiters yes, idle holders no). */
  readonly keepAlive: boolean;
  readonly onWarning?: (message: string) => void;
}

/**
 * Calls `listener` with the changed file name when the lock directory changes (inotify, one
 * watcher per directory shared by the process), and with null on each poll tick if polling.
 */
export function subscribe(dir: string, options: SubscribeOptions, listener: Listener): Disposable {
  let w = watches.get(dir);
  if (!w) {
    w = { listeners: new Set(), watcher: null, pollers: new Map() };
    watches.set(dir, w);
  }
  const entry = w;
  entry.listeners.add(listener);
  if (options.useWatcher && !entry.watcher) {
    try {
      const watcher = fs.watch(dir, { persistent: false }, (_event, file) => {
        for (const l of [...entry.listeners]) l(typeof file === 'string' ? file : null);
      });
      watcher.on('error', (err) => {
        options.onWarning?.(`Watching ${dir} failed (${err.message}); falling back to polling.`);
        watcher.close();
        if (entry.watcher === watcher) entry.watcher = null;
      });
      entry.watcher = watcher;
    } catch (err) {
      // E.g. the inotify watch limit: polling still gets there.
      options.onWarning?.(`Cannot watch ${dir} (${(err as Error).message}); changes are noticed by polling.`);
    }
  }
  if (options.pollMs !== undefined && options.pollMs > 0) {
    const timer = setInterval(() => listener(null), options.pollMs);
    if (!options.keepAlive) timer.unref();
    entry.pollers.set(listener, timer);
  }
  let disposed = false;
  return {
    dispose() {
      if (disposed) return;
      disposed = true;
      const timer = entry.pollers.get(listener);
      if (timer) clearInterval(timer);
      entry.pollers.delete(listener);
      entry.listeners.delete(listener);
      if (entry.listeners.size === 0) {
        entry.watcher?.close();
        watches.delete(dir);
      }
    },
  };
}
