// Status conditions as Kubernetes writes them (metav1.Condition): one entry per
// type, whose lastTransitionTime moves only when the status flips. Pure, so
// reconcilers can compute the next status without a cluster.
import type { Condition } from '../api/common.ts';

export interface ConditionUpdate {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
}

/**
 * Kubernetes serialises times to whole seconds (RFC 3339); writing the same
 * precision keeps an unchanged condition byte-identical to what the API server
 * returns, so a status apply of it is a no-op.
 */
export function kubernetesTime(date: Date): string {
  return date.toISOString().replace(/\.\d+Z$/, 'Z');
}

/**
 * Returns a new list with `update` applied to the condition of its type: the
 * entry is replaced in place (appended when the type is new, so other entries
 * keep their order), `observedGeneration` is set to `generation`, and
 * `lastTransitionTime` is kept when the status does not change and set to `now`
 * when it does (or the type is new). reason and message are always taken from
 * `update`. Does not mutate `conditions` or its entries.
 */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  update: ConditionUpdate,
  generation: number,
  now: Date,
): Condition[] {
  const list = conditions ?? [];
  const existing = list.find((c) => c.type === update.type);
  const next: Condition = {
    type: update.type,
    status: update.status,
    reason: update.reason,
    message: update.message,
    lastTransitionTime:
      existing !== undefined && existing.status === update.status ? existing.lastTransitionTime : kubernetesTime(now),
    observedGeneration: generation,
  };
  if (existing === undefined) return [...list, next];
  return list.map((c) => (c === existing ? next : { ...c }));
}

/** The condition of `type`, or undefined when the list has none. */
export function findCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}
