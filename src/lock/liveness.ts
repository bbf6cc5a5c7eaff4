import { type SelfIdentity, thisOs, type Liveness } from './os';
import type { HolderRecord } from './records';

export type { Liveness };

/** Judges whether the processes behind a record still exist, from this process's point of view. */
export function recordLiveness(record: HolderRecord, self: SelfIdentity): Liveness {
  return thisOs.liveness(record, self);
}
