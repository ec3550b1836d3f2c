// Applies the objects a managed cluster is made of (Secret, ConfigMap,
// Services, PodDisruptionBudgets, StatefulSet) with server-side apply. The
// cluster's reconcile runs every second or so to watch the writer, so the
// children are applied only when what would be applied differs from what this
// process last applied, or the resync interval has passed since (so that an
// object deleted or edited by hand comes back).
import { createHash } from 'node:crypto';
import type { KubeObject } from '../../../runtime/informer.ts';
import type { KubeClient } from '../../../runtime/kube.ts';

interface Applied {
  readonly fingerprint: string;
  readonly atMs: number;
}

export class AppliedChildren {
  readonly #applied = new Map<string, Applied>();

  /** Whether `objects` must be applied for cluster `key` now. */
  needed(key: string, objects: readonly object[], nowMs: number, resyncIntervalMs: number): boolean {
    const last = this.#applied.get(key);
    return last === undefined || last.fingerprint !== fingerprintOf(objects) || nowMs - last.atMs >= resyncIntervalMs;
  }

  remember(key: string, objects: readonly object[], nowMs: number): void {
    this.#applied.set(key, { fingerprint: fingerprintOf(objects), atMs: nowMs });
  }

  /** Forget a cluster (deleted, or a child found missing): the next reconcile applies everything. */
  forget(key: string): void {
    this.#applied.delete(key);
  }
}

function fingerprintOf(objects: readonly object[]): string {
  return createHash('sha256').update(JSON.stringify(objects)).digest('hex');
}

/** Applies each object in order; the first failure stops the rest (later objects may depend on earlier ones). */
export async function applyInOrder(kube: KubeClient, objects: readonly KubeObject[]): Promise<void> {
  for (const object of objects) await kube.apply(object);
}
