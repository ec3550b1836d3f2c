// The claim a files Job mounts and the pods of its namespace, read from the
// API server when a Job is about to start (the operator caches neither a
// tenant's claims nor its pods), turned into a node choice by nodeForClaim.
import type { ControllerContext } from '../context.ts';
import { nodeForClaim, type ClaimObject, type ClaimUser, type NodeChoice } from './node-choice.ts';

/** `ignorePrefix`: the names of the Job's own pods start with it (a retried Job is not pinned to its earlier pod's node). */
export async function claimNodeChoice(context: ControllerContext, namespace: string, claimName: string, ignorePrefix: string): Promise<NodeChoice> {
  const claim = await context.kube.get<ClaimObject>({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace, name: claimName });
  if (claim === undefined) return nodeForClaim(claimName, undefined, []);
  const pods = await context.kube.list<ClaimUser>('v1', 'Pod', namespace);
  return nodeForClaim(claimName, claim, pods, ignorePrefix);
}
