import { describeHolder, describeRole, type Holder } from '../lock';

/** Tells the user, on stderr, who a lock request is waiting for. */
export interface WaitReporter {
  readonly onWait: (blockers: readonly Holder[]) => void;
  /** Ends the report once the lock is ours (or the wait failed). */
  done(acquired: boolean): void;
}

/**
 * On a terminal one live line, rewritten as holders come and go; on a pipe or file a plain line
 * each time the set of holders changes (the engine calls onWait only on changes).
 */
export function waitReporter(
  what: string,
  options: { readonly mode: 'read' | 'write'; readonly stream?: NodeJS.WriteStream },
): WaitReporter {
  const stream = options.stream ?? process.stderr;
  const live = stream.isTTY === true;
  const started = Date.now();
  let waited = false;
  let lineShown = false;
  let lastText = '';
  return {
    onWait(all) {
      waited = true;
      // A reader waits only for writers; the engine also lists the readers it shares the lock with.
      const writers = all.filter((h) => h.mode === 'write');
      const blockers = options.mode === 'read' && writers.length > 0 ? writers : all;
      const list = blockers.map((h) => `${describeRole(h)} ${describeHolder(h)}`).join('; ');
      const who =
        blockers.length === 0
          ? 'a holder we cannot name (another host or PID namespace?)'
          : blockers.length === 1
            ? list
            : `${blockers.length} parties: ${list}`;
      const text = `toolchain-lock: waiting for the ${what}; blocked by ${who}`;
      if (text === lastText) return;
      lastText = text;
      if (live) {
        const width = Math.max(20, (stream.columns || 80) - 1);
        stream.write(`\r\x1b[2K${text.length > width ? `${text.slice(0, width - 1)}…` : text}`);
        lineShown = true;
      } else {
        stream.write(`${text}\n`);
      }
    },
    done(acquired) {
      if (lineShown) stream.write('\r\x1b[2K');
      lineShown = false;
      if (waited && acquired)
        stream.write(
          `toolchain-lock: got the ${what} after ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
        );
    },
  };
}
