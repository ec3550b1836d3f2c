// Which watch events queue an object for a reconcile. Every reconcile costs
// API and SQL round trips, so changes a reconcile cannot act on are skipped:
// the status the operator itself just wrote, a finalizer just added (the
// operator adds its own in the same reconcile that goes on to do the work),
// and Secrets the operator just wrote for a user it was reconciling anyway.
import { isDeepStrictEqual } from 'node:util';
import type { InformerEvent, KubeObject } from '../runtime/informer.ts';
import { managedByLabel, type SecretObject } from './context.ts';

/**
 * True for an add or delete, a periodic resync (previous === object), and an
 * update that changes the spec (generation), deletion, labels, or removes a
 * finalizer (the operator's own may have to be put back).
 */
export function worthReconciling(event: InformerEvent, object: KubeObject, previous: KubeObject | undefined): boolean {
  if (event !== 'update' || previous === undefined || previous === object) return true;
  const a = previous.metadata;
  const b = object.metadata;
  return (
    a.generation !== b.generation ||
    a.deletionTimestamp !== b.deletionTimestamp ||
    finalizerRemoved(a.finalizers ?? [], b.finalizers ?? []) ||
    JSON.stringify(a.labels ?? {}) !== JSON.stringify(b.labels ?? {})
  );
}

function finalizerRemoved(before: readonly string[], after: readonly string[]): boolean {
  return before.some((f) => !after.includes(f));
}

/**
 * Whether a Secret event may matter to the clusters and users that name the
 * Secret: it was deleted, its data or owners changed (a password edited, a
 * connection Secret taken over), or someone other than the operator created
 * it. The operator's own new Secrets (a generated password, a connection
 * Secret) come from a reconcile of the very user that names them.
 */
export function secretChangeMatters(event: InformerEvent, secret: SecretObject, previous: SecretObject | undefined): boolean {
  if (event === 'delete') return true;
  if (event === 'add' || previous === undefined) return !writtenByOperator(secret);
  if (previous === secret) return true;
  return !isDeepStrictEqual(previous.data ?? {}, secret.data ?? {}) || !isDeepStrictEqual(previous.metadata.ownerReferences ?? [], secret.metadata.ownerReferences ?? []);
}

function writtenByOperator(secret: SecretObject): boolean {
  return Object.entries(managedByLabel).every(([key, value]) => secret.metadata.labels?.[key] === value);
}
