// The independent checker of the stress tests: replays the shared O_APPEND log that every party
// (and the test, before each SIGKILL) writes, and finds writers overlapping anyone.
//
// Line: `TIME PID MODE WHAT PARTY ROLE`
//   WHAT    want (about to wait) | acquire (holds: written after the lock was taken) |
//           release (written before letting go) | released (let go)
//   PARTY   one process tree the test spawned; ROLE engine | run | update | flock-read | flock-write
// Kill line, written by the test *before* it sends SIGKILL: `TIME PID KIND kill PARTY SCOPE SEEN`,
//   SCOPE process (PID alone) | group (every process of PARTY); SEEN what the victim's record
//   said then: record-waiting | record-held | no-record.
//
// Why this is sound with kills: an interval [acquire line, release line] lies inside the real
// holding (the line follows the lock, the unlock follows the line), so two logged intervals that
// overlap are two real holders at once. A victim really lets go only when it dies, which is after
// the kill line: ending its interval at the kill line keeps it inside the real one. Whatever the
// victim logs between the kill line and its death (microseconds) is ignored: its release would
// never be logged, and it would look like a holder forever.

/** How a logger's last line before a kill describes where it was. */
const STATE_AFTER = {
  want: 'waiting',
  acquire: 'holding',
  release: 'releasing',
  released: 'between rounds',
};

/**
 * Replays `lines`. Returns the overlaps, reads and writes served (in all and per party), loggers
 * still holding at the end (a command that began and never ended, though nobody killed it), the
 * commands that outlived their killed wrapper, and each fault with the state its victim was in,
 * as the log orders it.
 */
export function checkLockLog(lines) {
  const holders = new Map(); // `${party}/${pid}` → { pid, party, mode, role, line }
  const last = new Map(); // party → { role, what, pid } of its latest line
  const killedProcesses = new Set();
  const killedParties = new Set();
  const orphaned = new Map(); // `${party}/${pid}` of commands whose wrapper was killed while they held
  const overlaps = [];
  const served = { read: 0, write: 0 };
  const servedBy = new Map(); // party → acquisitions
  const faults = [];
  const survivedWrapper = [];
  let ignoredAfterKill = 0;
  for (const line of lines) {
    if (line === '') continue;
    const [, pid, mode, what, party, role, seen] = line.split(' ');
    const key = `${party}/${pid}`;
    if (what === 'kill') {
      const scope = role;
      const mine = [...holders.entries()].filter(([, h]) => h.party === party);
      const victims = mine.filter(([, h]) => scope === 'group' || h.pid === pid);
      faults.push({
        kind: mode,
        scope,
        state: faultState(mode, scope, mine.length, last.get(party), seen),
        held: victims.map(([, h]) => h.role),
      });
      for (const [k] of victims) holders.delete(k);
      // The wrapper alone: what it ran still holds through the inherited descriptor, and must end.
      for (const [k] of mine) if (!victims.some(([v]) => v === k)) orphaned.set(k, line);
      if (scope === 'group') killedParties.add(party);
      else killedProcesses.add(key);
      continue;
    }
    if (killedParties.has(party) || killedProcesses.has(key)) {
      ignoredAfterKill++;
      continue;
    }
    last.set(party, { role, what, pid });
    if (what === 'acquire') {
      const others = [...holders.values()];
      const writer = others.find((h) => h.mode === 'write');
      if (writer || (mode === 'write' && others.length > 0))
        overlaps.push(`${line}   while held by: ${others.map((h) => h.line).join(' | ')}`);
      holders.set(key, { pid, party, mode, role, line });
      served[mode] = (served[mode] ?? 0) + 1;
      servedBy.set(party, (servedBy.get(party) ?? 0) + 1);
    } else if (what === 'release') {
      holders.delete(key);
      if (orphaned.has(key)) {
        survivedWrapper.push({ role, line });
        orphaned.delete(key);
      }
    }
  }
  return {
    overlaps,
    served,
    servedBy,
    stillHeld: [...holders.values()],
    faults,
    survivedWrapper,
    ignoredAfterKill,
  };
}

/** Where a victim was when the kill line was written. */
function faultState(kind, scope, holdingLoggers, latest, seen) {
  if (kind.startsWith('engine'))
    return latest ? (STATE_AFTER[latest.what] ?? latest.what) : 'starting';
  // A wrapper (CLI, flock(1)) logs nothing itself: its command's lines say where it is, and
  // before its command, its record (flock(1) writes none: it blocks in the kernel).
  if (holdingLoggers > 0)
    return scope === 'group' ? 'command running' : 'wrapper alone, command running';
  if (latest?.what === 'release') return 'command done, wrapper releasing';
  if (seen === 'record-waiting') return 'waiting';
  if (seen === 'record-held') return 'holding, command not started';
  return kind.startsWith('flock')
    ? 'starting or waiting in flock()'
    : 'starting or first try (no record)';
}
