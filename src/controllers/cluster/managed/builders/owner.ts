// Every object a managed cluster creates is owned by its MySQLCluster, as its
// controller: deleting the cluster lets the garbage collector delete them,
// and the operator's watches map them back to the cluster.
import { apiVersion } from '../../../../api/common.ts';

/** The MySQLCluster that owns the objects built: all builders take it. */
export interface ClusterOwner {
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller: boolean;
  blockOwnerDeletion: boolean;
}

export function ownerReference(owner: ClusterOwner): OwnerReference {
  return { apiVersion, kind: 'MySQLCluster', name: owner.name, uid: owner.uid, controller: true, blockOwnerDeletion: true };
}

export interface ChildMetadata {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences: OwnerReference[];
}

/** metadata of an object owned by the cluster. */
export function childMetadata(owner: ClusterOwner, name: string, labels: Readonly<Record<string, string>>): ChildMetadata {
  return { name, namespace: owner.namespace, labels: { ...labels }, ownerReferences: [ownerReference(owner)] };
}
