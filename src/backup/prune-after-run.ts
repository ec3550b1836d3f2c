// Which backups a run on a PVC target deletes once it has succeeded. The
// operator cannot mount a volume, so it decides when it creates the run's
// Job and the Job deletes them after its own manifest is written (the
// PRUNE_RUNS input of flightdeck-backup). Pure: selectKept decides, over the
// listed backups plus the new run counted as complete — the Job prunes only
// once it is, and the newest complete backup is never pruned.
//
// Deciding at the start rather than at the end is safe: between the two only
// `now` moves, which can make keepWithin keep fewer and maxAge keep fewer,
// never more. So the Job deletes a subset of what a decision at the end would
// delete; the rest is deleted by a later run.
import { isRunId, parseRunId } from './manifest.ts';
import { selectKept, type Retention } from './retention.ts';
import type { TimeZone } from './time-zone.ts';

/**
 * At most this many ids per run: the Job reports what it deleted in its
 * result line, which a pod's termination message caps at 4 KiB; each id
 * takes 19 bytes there. After a policy change that prunes more, the next
 * runs delete the rest.
 */
export const maxPrunedPerRun = 40;

export interface PruneAfterRunInput {
  /** The listed backups (complete ones), any order. */
  readonly listed: readonly { readonly id: string }[];
  /** The run about to start: counted as complete, never pruned. */
  readonly runId: string;
  readonly policy: Retention;
  readonly now: Date;
  readonly zone: TimeZone;
}

/** The ids to delete once run `runId` has succeeded, oldest first (at most maxPrunedPerRun). */
export function runsToPruneAfter(input: PruneAfterRunInput): string[] {
  // An id that names no time cannot be placed by any rule: it is left alone.
  const others = input.listed.filter((b) => b.id !== input.runId && isRunId(b.id));
  const selection = selectKept(
    [{ id: input.runId, time: parseRunId(input.runId), complete: true }, ...others.map((b) => ({ id: b.id, time: parseRunId(b.id), complete: true }))],
    input.policy,
    input.now,
    input.zone,
  );
  // selectKept lists them newest first; the oldest go first, as the ones most surely unwanted.
  return selection.pruned
    .map((p) => p.backup.id)
    .filter((id) => id !== input.runId)
    .reverse()
    .slice(0, maxPrunedPerRun);
}
