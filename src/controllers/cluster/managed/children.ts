// Applies the objects a managed cluster is made of (Secret, ConfigMap,
// Services, PodDisruptionBudgets, StatefulSet) with server-side apply. The
// cluster's reconcile runs every second or so to watch the writer, so the
// children are applied only when what they are built from differs from what
// this process last applied them from, or the resync interval has passed
// since (so that an object deleted or edited by hand comes back). Comparing
// the inputs rather than the built objects spares building (and hashing)
// every manifest once a second per cluster only to find nothing changed.
import { createHash } from 'node:crypto';
import type { KubeObject } from '../../../runtime/informer.ts';
import type { KubeClient } from '../../../runtime/kube.ts';
import type { ClusterPasswords } from './builders/secrets.ts';

/**
 * Everything the builders read (builders/all.ts), so that a change of any of
 * it rebuilds the children: the spec through the generation, the owner's uid
 * (a re-created cluster of the same name), the passwords, the nodes an
 * instance may run on, and the StatefulSet's replicas (scale.ts). A new input
 * to the builders belongs here too.
 */
export interface ChildInputs {
  readonly uid: string;
  readonly generation: number | undefined;
  readonly passwords: ClusterPasswords;
  readonly nodeCount: number;
  readonly replicas: number;
}

/** A digest of `inputs`; the passwords enter it only hashed with the rest, and it stays in memory. */
export function inputsFingerprint(inputs: ChildInputs): string {
  const { passwords, ...rest } = inputs;
  const ordered = [rest.uid, rest.generation ?? null, rest.nodeCount, rest.replicas, passwords.root, passwords.replication, passwords.operator, passwords.manager];
  return createHash('sha256').update(JSON.stringify(ordered)).digest('hex');
}

interface Applied {
  readonly fingerprint: string;
  readonly atMs: number;
}

export class AppliedChildren {
  readonly #applied = new Map<string, Applied>();

  /** Whether the children of cluster `key` must be applied now, given the fingerprint of their inputs. */
  needed(key: string, fingerprint: string, nowMs: number, resyncIntervalMs: number): boolean {
    const last = this.#applied.get(key);
    return last === undefined || last.fingerprint !== fingerprint || nowMs - last.atMs >= resyncIntervalMs;
  }

  remember(key: string, fingerprint: string, nowMs: number): void {
    this.#applied.set(key, { fingerprint, atMs: nowMs });
  }

  /** Forget a cluster (deleted, or a child found missing): the next reconcile applies everything. */
  forget(key: string): void {
    this.#applied.delete(key);
  }
}

/** Applies each object in order; the first failure stops the rest (later objects may depend on earlier ones). */
export async function applyInOrder(kube: KubeClient, objects: readonly KubeObject[]): Promise<void> {
  for (const object of objects) await kube.apply(object);
}
