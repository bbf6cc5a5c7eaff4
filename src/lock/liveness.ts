import type { SelfIdentity } from './identity';
import { thisOs } from './os';
import type { HolderRecord } from './records';

/** `dead` is only said when proved; anything we cannot see is `unknown`. */
export type Liveness = 'alive' | 'unknown' | 'dead';

/** Judges whether the processes behind a record still exist, from this process's point of view. */
export function recordLiveness(record: HolderRecord, self: SelfIdentity): Liveness {
  return thisOs.liveness(record, self);
}
