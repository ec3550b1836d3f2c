// Growing the instances' volumes when spec.size grows. A StatefulSet's volume
// claim template cannot change, so each instance's PersistentVolumeClaim is
// given the larger request itself; the volume's driver then expands it, which
// Kubernetes allows only when the claim's StorageClass says
// allowVolumeExpansion: true. Where it does not (the local cluster's
// node-local class, many bare-metal classes), nothing is patched — the API
// server would refuse it — and the StorageResized condition says which claims
// keep which size, so the cluster goes on serving instead of failing its
// reconcile. Shrinking never gets here: the CRD refuses a smaller size.
// storagePlan is pure; growStorage does the reads and patches.
import type { KubeClient } from '../../../runtime/kube.ts';
import { memoryBytes } from './builders/config.ts';
import type { ConditionOutcome } from './status.ts';

/** The condition type this file's outcome is written under. */
export const storageConditionType = 'StorageResized';

/** What is read of one instance's claim. */
export interface ClaimObservation {
  readonly name: string;
  /** spec.resources.requests.storage. */
  readonly request: string | undefined;
  /** status.capacity.storage: what the volume has now. */
  readonly capacity: string | undefined;
  readonly storageClassName: string | undefined;
  /** status.phase is Bound: only a bound claim's request may change. */
  readonly bound: boolean;
}

export interface StoragePlan {
  /** Claims to give the desired request. */
  readonly expand: readonly string[];
  readonly condition: ConditionOutcome;
}

/** Whether a StorageClass allows expansion: true, false, or undefined when the class does not exist (or the claim names none). */
export type ExpansionAllowed = (storageClassName: string | undefined) => boolean | undefined;

/** Which claims to expand to `desired` (spec.size) and what the StorageResized condition says, from the claims that exist. */
export function storagePlan(desired: string, claims: readonly ClaimObservation[], expansionAllowed: ExpansionAllowed): StoragePlan {
  const want = memoryBytes(desired);
  if (want === undefined) return { expand: [], condition: { ready: false, reason: 'SizeUnreadable', message: `spec.size ${desired} is a quantity the operator cannot compare; volumes are left as they are` } };
  const smaller = (quantity: string | undefined) => {
    const bytes = memoryBytes(quantity);
    return bytes !== undefined && bytes < want;
  };
  const toGrow = claims.filter((c) => c.bound && smaller(c.request));
  const refused = toGrow.filter((c) => expansionAllowed(c.storageClassName) !== true);
  if (refused.length > 0) {
    const byClass = new Map<string, string[]>();
    for (const c of refused) {
      const cls = c.storageClassName === undefined ? 'no StorageClass' : `StorageClass ${c.storageClassName}`;
      byClass.set(cls, [...(byClass.get(cls) ?? []), `${c.name} (${c.request ?? 'no request'})`]);
    }
    const described = [...byClass].map(([cls, names]) => `${cls} does not allow volume expansion (allowVolumeExpansion is not true): ${names.join(', ')}`);
    return {
      expand: toGrow.filter((c) => !refused.includes(c)).map((c) => c.name),
      condition: {
        ready: false,
        reason: 'ExpansionNotAllowed',
        message: `spec.size asks for ${desired}, but ${described.join('; ')} keep their size. The instances go on running with it`,
      },
    };
  }
  if (toGrow.length > 0) {
    return {
      expand: toGrow.map((c) => c.name),
      condition: { ready: false, reason: 'Resizing', message: `${toGrow.map((c) => c.name).join(', ')} asked to grow to ${desired}` },
    };
  }
  const growing = claims.filter((c) => c.bound && smaller(c.capacity));
  if (growing.length > 0) {
    return {
      expand: [],
      condition: { ready: false, reason: 'Resizing', message: `waiting for ${growing.map((c) => `${c.name} (${c.capacity ?? '?'} now)`).join(', ')} to reach ${desired}` },
    };
  }
  return { expand: [], condition: { ready: true, reason: 'AsRequested', message: `every volume has the ${desired} spec.size asks for` } };
}

interface ClaimObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: { storageClassName?: string; resources?: { requests?: { storage?: string } } };
  status?: { phase?: string; capacity?: { storage?: string } };
}

interface StorageClassObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  allowVolumeExpansion?: boolean;
}

export interface StorageCheck {
  readonly condition: ConditionOutcome;
  /** Every claim exists and has the desired size: nothing to look at again until spec.size changes. */
  readonly settled: boolean;
}

/**
 * Reads the claims `claimNames`, asks storagePlan, patches the requests it
 * says to, and returns the condition. A missing claim is skipped but leaves
 * the check unsettled: its pod is yet to come, and a claim made from an older
 * StatefulSet's template (which cannot change) starts at the old size. API
 * errors propagate with the claim they concern.
 */
export async function growStorage(kube: KubeClient, namespace: string, claimNames: readonly string[], desired: string): Promise<StorageCheck> {
  const claims: ClaimObservation[] = [];
  for (const name of claimNames) {
    const claim = await kube.get<ClaimObject>({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace, name });
    if (claim === undefined) continue;
    claims.push({
      name,
      request: claim.spec?.resources?.requests?.storage,
      capacity: claim.status?.capacity?.storage,
      storageClassName: claim.spec?.storageClassName,
      bound: claim.status?.phase === 'Bound',
    });
  }
  const classes = new Map<string, boolean | undefined>();
  for (const name of new Set(claims.map((c) => c.storageClassName))) {
    if (name === undefined) continue;
    const storageClass = await kube.get<StorageClassObject>({ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', name });
    classes.set(name, storageClass === undefined ? undefined : storageClass.allowVolumeExpansion === true);
  }
  const plan = storagePlan(desired, claims, (name) => (name === undefined ? undefined : classes.get(name)));
  for (const name of plan.expand) {
    try {
      await kube.apply({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name, namespace }, spec: { resources: { requests: { storage: desired } } } });
    } catch (error) {
      throw new Error(`growing PersistentVolumeClaim ${namespace}/${name} to ${desired}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  }
  return { condition: plan.condition, settled: plan.condition.ready && claims.length === claimNames.length };
}
