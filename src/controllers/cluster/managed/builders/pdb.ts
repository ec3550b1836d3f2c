// PodDisruptionBudgets: what `kubectl drain` (and every eviction) may take
// away at once. The writer is protected so that a drain never turns into an
// unplanned failover: its eviction is refused until the operator, which sees
// the node cordoned, has switched the writer to another instance; the old
// writer is then a reader and the drain proceeds. Readers go one at a time.
import { clusterLabels, readerSelector, writerSelector, type Labels } from './labels.ts';
import type { ClusterNames } from './names.ts';
import { childMetadata, type ChildMetadata, type ClusterOwner } from './owner.ts';

export interface PodDisruptionBudgetManifest {
  apiVersion: 'policy/v1';
  kind: 'PodDisruptionBudget';
  metadata: ChildMetadata;
  spec: {
    minAvailable?: number;
    maxUnavailable?: number;
    selector: { matchLabels: Record<string, string> };
    /**
     * AlwaysAllow: a pod that is not ready (crash-looping, stuck) may be
     * evicted regardless of the budget. It serves nothing, and a drain must
     * not wait on it forever; for the writer, the operator fails over.
     */
    unhealthyPodEvictionPolicy: 'AlwaysAllow';
  };
}

function budget(owner: ClusterOwner, name: string, selector: Labels, limit: { minAvailable: number } | { maxUnavailable: number }): PodDisruptionBudgetManifest {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: childMetadata(owner, name, clusterLabels(owner.name)),
    spec: { ...limit, selector: { matchLabels: { ...selector } }, unhealthyPodEvictionPolicy: 'AlwaysAllow' },
  };
}

/**
 * The budgets for a cluster of `instances` pods. None for a single instance:
 * there is no other instance to move the writer to, so a budget would only
 * block every drain of its node forever (node upgrades would hang) without
 * saving any downtime.
 */
export function disruptionBudgets(owner: ClusterOwner, names: ClusterNames, instances: number): PodDisruptionBudgetManifest[] {
  if (instances < 2) return [];
  return [
    budget(owner, names.writerDisruptionBudget, writerSelector(owner.name), { minAvailable: 1 }),
    // minAvailable, not maxUnavailable: for maxUnavailable the disruption
    // controller expects as many pods as the StatefulSet has replicas, so over
    // the readers alone (a subset) it would never allow an eviction.
    budget(owner, names.readerDisruptionBudget, readerSelector(owner.name), { minAvailable: instances - 2 }),
  ];
}
