// The Pods and Nodes of a managed cluster as the operator caches and reads
// them, and what the decision needs of them (InstanceObservation without the
// server part, which comes over SQL). Pure.
import type { InstanceObservation, PodPhase, ServerObservation } from '../../../replication/observations.ts';
import type { NodeObject, PodObject } from '../../context.ts';
import { podIndex, podName } from './builders/names.ts';
import { rebuildRequestAnnotation, seedContainerName, seedDonorAnnotation } from './builders/seed.ts';

export type { PodObject } from '../../context.ts';

const phases: ReadonlySet<string> = new Set(['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown']);

/** Taints that mean a node is being emptied (kubectl cordon/drain, cluster autoscaler scale-down). */
const leavingTaints: ReadonlySet<string> = new Set(['node.kubernetes.io/unschedulable', 'ToBeDeletedByClusterAutoscaler']);

/** Whether the node is cordoned or draining: its pods are about to be evicted, so a writer there must move first. */
export function nodeIsLeaving(node: NodeObject | undefined): boolean {
  if (node === undefined) return false;
  if (node.spec?.unschedulable === true) return true;
  return node.spec?.taints?.some((t) => leavingTaints.has(t.key) && (t.effect === 'NoSchedule' || t.effect === 'NoExecute')) ?? false;
}

export function podIsReady(pod: PodObject): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** A pod that is being deleted or has stopped can neither write nor acknowledge. */
export function podIsGone(pod: PodObject | undefined): boolean {
  if (pod === undefined) return true;
  const phase = pod.status?.phase;
  return phase === 'Failed' || phase === 'Succeeded';
}

/**
 * One InstanceObservation per desired ordinal and per extra pod of the
 * cluster, with `servers` (by pod name) from SQL. `pods` are the cluster's
 * pods; `nodeOf` finds a pod's node in the cache.
 */
export function instanceObservations(
  cluster: string,
  instanceCount: number,
  pods: readonly PodObject[],
  nodeOf: (name: string) => NodeObject | undefined,
  servers: ReadonlyMap<string, ServerObservation>,
): InstanceObservation[] {
  const byIndex = new Map<number, PodObject>();
  for (const pod of pods) {
    const index = podIndex(cluster, pod.metadata.name);
    if (index !== undefined) byIndex.set(index, pod);
  }
  const indexes = new Set<number>([...Array.from({ length: instanceCount }, (_, i) => i), ...byIndex.keys()]);
  return [...indexes]
    .sort((a, b) => a - b)
    .map((index): InstanceObservation => {
      const name = podName(cluster, index);
      const pod = byIndex.get(index);
      if (pod === undefined) {
        return { name, index, exists: false, podReady: false, phase: undefined, nodeName: undefined, nodeUnschedulable: false, podDeleting: false, server: undefined };
      }
      const nodeName = pod.spec?.nodeName === '' ? undefined : pod.spec?.nodeName;
      const phase = pod.status?.phase;
      return {
        name,
        index,
        exists: true,
        podReady: podIsReady(pod),
        phase: phase !== undefined && phases.has(phase) ? (phase as PodPhase) : undefined,
        nodeName,
        nodeUnschedulable: nodeName === undefined ? false : nodeIsLeaving(nodeOf(nodeName)),
        podDeleting: pod.metadata.deletionTimestamp !== undefined,
        server: servers.get(name),
        ...(seedIsRunning(pod) ? { seeding: { donor: nonEmpty(pod.metadata.annotations?.[seedDonorAnnotation]) } } : {}),
        ...(nonEmpty(pod.metadata.annotations?.[rebuildRequestAnnotation]) === undefined ? {} : { rebuildRequested: true }),
      };
    });
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/**
 * The seed init container is copying or waiting for a donor: running, or
 * waiting to run again after a failed attempt (a donor that went away). A
 * first start waiting to run is left out: it may find data and return at once.
 */
export function seedIsRunning(pod: PodObject): boolean {
  const seed = pod.status?.initContainerStatuses?.find((s) => s.name === seedContainerName);
  if (seed === undefined || pod.metadata.deletionTimestamp !== undefined) return false;
  if (seed.state?.running !== undefined) return true;
  const failedBefore = seed.lastState?.terminated !== undefined && seed.lastState.terminated.exitCode !== 0;
  return seed.state?.waiting !== undefined && failedBefore;
}
