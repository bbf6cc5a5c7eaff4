// Waking up when a lock may have changed hands: the kernel's own events where it has them
// (os/kernel-watch.ts), fs.watch of the directory plus polling where it does not, polling alone on
// network file systems.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { holdProcessOpen, kernelWatch, kernelWatchAvailable } from './os';
import { DEFAULT_POLL_MS } from './options';

/**
 * Why a subscriber is woken: an entry of the directory changed (`file` names it), a lock or gate
 * file was opened or closed (`file` names it), or a poll tick or lost events (`file` is null).
 */
export type ChangeKind = 'entry' | 'close' | 'open' | 'poll';
type Listener = (file: string | null, kind: ChangeKind) => void;

/** A handle that stops what it started. */
export interface Disposable {
  dispose(): void;
}

export interface SubscribeOptions {
  /** Poll interval where no event can be trusted (network file systems, or no watcher here). */
  readonly pollMs?: number;
  /** Whether file events can be trusted here (local file system). */
  readonly useWatcher: boolean;
  /** Whether the subscription may keep the process alive (waiters yes, idle holders no). */
  readonly keepAlive: boolean;
  /** Lock or gate files whose closes (and with `opens`, opens) wake us: a holder let go or died. */
  readonly files?: readonly string[];
  readonly opens?: boolean;
  /** Only names that appear in the directory wake us, not those that go (where the kernel can tell them apart). */
  readonly arrivalsOnly?: boolean;
  readonly onWarning?: (message: string) => void;
}

/** A subscription whose watched lock files can change (watch adds keys as they appear). */
export interface Subscription extends Disposable {
  setFiles(files: readonly string[]): void;
  /** True when the kernel wakes us for everything asked (nothing needs a periodic look). */
  readonly kernel: boolean;
}

const warned = new Set<string>();

function warnOnce(options: SubscribeOptions, message: string): void {
  if (warned.has(message)) return;
  warned.add(message);
  options.onWarning?.(message);
}

/**
 * Calls `listener` when the lock directory changes, and when one of `files` is closed. With the
 * kernel's events nothing polls; otherwise a poll every `pollMs` stands in for what cannot be seen.
 */
export function subscribe(
  dir: string,
  options: SubscribeOptions,
  listener: Listener,
): Subscription {
  if (options.useWatcher && kernelWatchAvailable()) {
    try {
      return kernelSubscription(dir, options, listener);
    } catch (err) {
      // E.g. ENOSPC: the user's inotify watch limit. Polling still gets there.
      warnOnce(
        options,
        `Cannot watch ${dir} with the kernel (${(err as Error).message}); changes are noticed by polling. Raise fs.inotify.max_user_watches if this persists.`,
      );
    }
  }
  return fallbackSubscription(dir, options, listener);
}

function kernelSubscription(
  dir: string,
  options: SubscribeOptions,
  listener: Listener,
): Subscription {
  let fallback: Subscription | null = null;
  const fallBack = (warning: string): void => {
    warnOnce(options, warning);
    fallback ??= fallbackSubscription(
      dir,
      { ...options, useWatcher: false, pollMs: options.pollMs ?? DEFAULT_POLL_MS },
      listener,
    );
  };
  const onEvent = (watched: string, kind: string, name: string): void => {
    // 'gone': the directory or a lock file went away or was replaced; nothing more comes from it.
    if (kind === 'failed' || kind === 'gone') {
      fallBack(
        kind === 'failed'
          ? `Cannot watch ${dir} with the kernel any more (${name}); changes are noticed by polling.`
          : `${watched} was removed or moved while in use; changes are noticed by polling.`,
      );
      listener(null, 'poll');
      return;
    }
    if (kind === 'overflow') listener(null, 'poll');
    else if (kind === 'entry') listener(name, 'entry');
    else if (kind === 'close' || kind === 'open') listener(path.basename(watched), kind);
  };
  const dirWatch = kernelWatch(dir, options.arrivalsOnly ? 'arrivals' : 'entries', onEvent);
  let fileWatches = new Map<string, Disposable>();
  const setFiles = (files: readonly string[]): void => {
    const next = new Map<string, Disposable>();
    for (const f of files) {
      const existing = fileWatches.get(f);
      if (existing) next.set(f, existing);
      else next.set(f, kernelWatch(f, options.opens ? 'opens-closes' : 'closes', onEvent));
    }
    for (const [f, w] of fileWatches) if (!next.has(f)) w.dispose();
    fileWatches = next;
  };
  try {
    setFiles(options.files ?? []);
  } catch (err) {
    for (const w of fileWatches.values()) w.dispose();
    dirWatch.dispose();
    throw err;
  }
  const alive = options.keepAlive ? holdProcessOpen() : null;
  let disposed = false;
  return {
    get kernel() {
      return fallback === null;
    },
    setFiles(files) {
      if (disposed) return;
      try {
        setFiles(files);
      } catch (err) {
        fallBack(
          `Cannot watch the lock files in ${dir} (${(err as Error).message}); changes are noticed by polling.`,
        );
      }
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      for (const w of fileWatches.values()) w.dispose();
      dirWatch.dispose();
      alive?.dispose();
      fallback?.dispose();
    },
  };
}

/** fs.watch of the directory (when trusted) and a poll timer: where the kernel cannot wake us. */
function fallbackSubscription(
  dir: string,
  options: SubscribeOptions,
  listener: Listener,
): Subscription {
  let watcher: fs.FSWatcher | null = null;
  let timer: NodeJS.Timeout | undefined;
  // Without a working watcher even an idle holder must poll, or it would never see an update.
  const startPolling = (ms = options.pollMs): void => {
    if (timer || ms === undefined || ms <= 0) return;
    timer = setInterval(() => listener(null, 'poll'), ms);
    if (!options.keepAlive) timer.unref();
  };
  if (options.useWatcher) {
    try {
      watcher = fs.watch(dir, { persistent: false }, (_event, file) =>
        listener(typeof file === 'string' ? file : null, 'entry'),
      );
      watcher.on('error', (err) => {
        warnOnce(options, `Watching ${dir} failed (${err.message}); falling back to polling.`);
        watcher?.close();
        watcher = null;
        startPolling(options.pollMs ?? DEFAULT_POLL_MS);
      });
    } catch (err) {
      warnOnce(
        options,
        `Cannot watch ${dir} (${(err as Error).message}); changes are noticed by polling.`,
      );
      startPolling(options.pollMs ?? DEFAULT_POLL_MS);
    }
  }
  startPolling();
  return {
    kernel: false,
    setFiles() {
      // Nothing to watch per file here: the poll covers holders that leave without a trace.
    },
    dispose() {
      watcher?.close();
      clearInterval(timer);
    },
  };
}
