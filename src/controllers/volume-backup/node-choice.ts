// Where a Job that mounts a claim can run. A ReadWriteOnce volume is attached
// to one node at a time: while a site's pod uses it, a backup or restore pod
// on another node would wait forever for the attachment (Multi-Attach error),
// so the Job is pinned to that pod's node. Node-local volumes carry the
// PersistentVolume's own node affinity, which the scheduler applies by itself;
// this adds nothing for them that could disagree, since a pod using one runs
// on its node. ReadWriteOncePod admits no second pod at all: that is refused.
import type { KubeObject } from '../../runtime/informer.ts';
import type { Readiness } from '../status.ts';

export interface ClaimObject extends KubeObject {
  spec?: { accessModes?: string[]; volumeName?: string };
  status?: { phase?: string; accessModes?: string[] };
}

/** A pod as far as its claims and node go. */
export interface ClaimUser extends KubeObject {
  spec?: { nodeName?: string; volumes?: { name: string; persistentVolumeClaim?: { claimName: string } }[] };
  status?: { phase?: string };
}

export type NodeChoice = { readonly nodeName?: string } | { readonly refusal: Readiness };

/** Pods that hold `claimName` now: scheduled, not finished, not being deleted; by name, for a stable choice. */
export function podsUsingClaim(pods: readonly ClaimUser[], claimName: string): ClaimUser[] {
  return pods
    .filter((pod) => (pod.spec?.volumes ?? []).some((v) => v.persistentVolumeClaim?.claimName === claimName))
    .filter((pod) => pod.spec?.nodeName !== undefined && pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed')
    .filter((pod) => pod.metadata.deletionTimestamp === undefined)
    .sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0));
}

/**
 * The node a Job mounting `claim` must run on (none: anywhere the scheduler
 * finds), or why it cannot run now. `pods` are the pods of the claim's
 * namespace; the Job's own pods are left out by `ignore` (their names'
 * prefix), so a retried Job is not pinned to its failed predecessor's node.
 */
export function nodeForClaim(claimName: string, claim: ClaimObject | undefined, pods: readonly ClaimUser[], ignorePrefix?: string): NodeChoice {
  if (claim === undefined) return { refusal: { ready: false, reason: 'ClaimNotFound', message: `PersistentVolumeClaim ${claimName} does not exist` } };
  // Pending is fine: with a WaitForFirstConsumer class, a new claim is bound for the Job's pod, its first consumer.
  if (claim.status?.phase === 'Lost') {
    return { refusal: { ready: false, reason: 'ClaimLost', message: `PersistentVolumeClaim ${claimName} is Lost: its volume is gone` } };
  }
  const modes = claim.status?.accessModes ?? claim.spec?.accessModes ?? [];
  const users = podsUsingClaim(pods, claimName).filter((pod) => ignorePrefix === undefined || !pod.metadata.name.startsWith(ignorePrefix));
  // A volume any node may mount: no pin.
  if (modes.includes('ReadWriteMany') || modes.includes('ReadOnlyMany')) return {};
  if (modes.includes('ReadWriteOncePod')) {
    const user = users[0];
    if (user === undefined) return {};
    return { refusal: { ready: false, reason: 'ClaimInUse', message: `PersistentVolumeClaim ${claimName} is ReadWriteOncePod and pod ${user.metadata.name} uses it; stop that pod first` } };
  }
  const nodeName = users[0]?.spec?.nodeName;
  return nodeName === undefined ? {} : { nodeName };
}
