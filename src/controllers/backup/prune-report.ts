// What a backup Job on a PVC target says it pruned (flightdeck-backup's
// PRUNE_RUNS, reported as `pruned` and `pruneError` in its result line),
// checked field by field, since a pod could write anything there.
import type { ScriptResult } from './job-status.ts';

export interface JobPruneReport {
  /** The runs whose folders the Job deleted (or found gone). */
  readonly pruned: readonly string[];
  /** Why it deleted no more of them, or refused an id. */
  readonly error?: string;
}

const runIdShape = /^[0-9]{8}T[0-9]{6}Z$/;

/**
 * The pruning a result reports; only ids of a run's shape count as deleted.
 * Undefined when the result says nothing of pruning (an S3 target, nothing
 * to prune, an image older than PRUNE_RUNS).
 */
export function pruneReportOf(result: ScriptResult | undefined): JobPruneReport | undefined {
  const raw = result as unknown as Record<string, unknown> | undefined;
  if (raw === undefined || (raw.pruned === undefined && raw.pruneError === undefined)) return undefined;
  const pruned = Array.isArray(raw.pruned) ? raw.pruned.filter((id): id is string => typeof id === 'string' && runIdShape.test(id)) : [];
  const error = typeof raw.pruneError === 'string' && raw.pruneError !== '' ? raw.pruneError.slice(0, 1000) : undefined;
  return { pruned, ...(error === undefined ? {} : { error }) };
}
