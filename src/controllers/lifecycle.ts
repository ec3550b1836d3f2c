// The frame every MySQLDatabase and MySQLUser reconcile runs in, like
// kube-rs's finalizer helper: read the object from the cache, read its spec
// (an invalid spec is reported, not retried), keep the finalizer exactly when
// deletion will have work to do, and on deletion run the cleanup before
// letting the object go. The kind-specific phases live in `apply`.
// Between phases it checks the reconcile's abort signal: API requests are cut
// off by it, but SQL statements are not, so a deposed leader must not start
// the next phase.
import { InvalidSpecError } from '../api/normalize.ts';
import type { ReconcileOutcome } from '../runtime/controller.ts';
import type { KubeObject } from '../runtime/informer.ts';
import { accessCluster, sqlFailure } from './cluster-access.ts';
import { keyOf, type ControllerContext } from './context.ts';
import { removeFinalizer, syncFinalizer } from './finalizers.ts';
import type { MySQLClient, OwnedKind } from '../mysql/client.ts';
import { writeStatus, type StatusObject } from './status.ts';

type Reconciled = KubeObject & StatusObject & { apiVersion: string; kind: string; spec: { cluster: { name: string; namespace?: string } } };

export interface Lifecycle<O extends Reconciled, I> {
  readonly finalizer: string;
  /** The spec as the controller acts on it; throws InvalidSpecError for a spec it cannot act on. */
  readonly intent: (object: O) => I;
  /** Whether deleting the object will have work to do (e.g. deletionPolicy: Delete). */
  readonly needsFinalizer: (intent: I) => boolean;
  /** What deletion drops on the server, when it has work to do. */
  readonly owned: (intent: I) => { what: OwnedKind; key: string; drop: (client: MySQLClient) => Promise<void> };
  /** The phases of a live object. */
  readonly apply: (object: O, intent: I) => Promise<ReconcileOutcome | undefined>;
}

export async function reconcileLifecycle<O extends Reconciled, I>(
  context: ControllerContext,
  object: O | undefined,
  lifecycle: Lifecycle<O, I>,
): Promise<ReconcileOutcome | undefined> {
  if (object === undefined) return undefined;
  let intent: I | undefined;
  let invalid: InvalidSpecError | undefined;
  try {
    intent = lifecycle.intent(object);
  } catch (error) {
    if (!(error instanceof InvalidSpecError)) throw error;
    invalid = error;
  }
  if (object.metadata.deletionTimestamp !== undefined) {
    if (!(object.metadata.finalizers ?? []).includes(lifecycle.finalizer)) return undefined;
    // An object whose spec became invalid cannot say what to drop; it is let go.
    if (intent !== undefined && lifecycle.needsFinalizer(intent)) {
      context.signal.throwIfAborted();
      await dropOwned(context, object, lifecycle.owned(intent));
    }
    await removeFinalizer(context, object, lifecycle.finalizer);
    return undefined;
  }
  if (intent === undefined) {
    await writeStatus(context, object, {}, { ready: false, reason: 'InvalidSpec', message: invalid?.message ?? 'invalid spec' });
    return undefined;
  }
  await syncFinalizer(context, object, lifecycle.finalizer, lifecycle.needsFinalizer(intent));
  context.signal.throwIfAborted();
  return lifecycle.apply(object, intent);
}

/**
 * Drops what the object owns on the server — only if the server records this
 * object as its owner. An unreachable cluster keeps the finalizer (the error
 * retries the deletion with backoff); a cluster that no longer exists, or that
 * no longer admits the namespace, leaves nothing this object may drop.
 */
async function dropOwned(
  context: ControllerContext,
  object: Reconciled,
  owned: { what: OwnedKind; key: string; drop: (client: MySQLClient) => Promise<void> },
): Promise<void> {
  const result = accessCluster(context, object);
  if ('halt' in result) {
    if (result.halt.reason === 'ClusterNotReady') {
      await writeStatus(context, object, statusFields(object), { ready: false, reason: 'DeletionBlocked', message: `cannot drop ${owned.what} ${owned.key}: ${result.halt.message}` });
      throw new Error(`deletion of ${keyOf(object)} waits for its cluster: ${result.halt.message}`);
    }
    context.events.record(object, 'Warning', 'NotDropped', `${result.halt.message}; ${owned.what} ${owned.key} was left in place`);
    return;
  }
  const client = result.access.client;
  try {
    const owner = await client.getOwner(owned.what, owned.key);
    if (owner === undefined || owner.uid !== object.metadata.uid) {
      context.events.record(object, 'Warning', 'NotDropped', `${owned.what} ${owned.key} is not owned by this object; left in place`);
      return;
    }
    await owned.drop(client);
    await client.releaseOwner(owned.what, owned.key, owner.uid);
    context.events.record(object, 'Normal', 'Dropped', `dropped ${owned.what} ${owned.key} (deletionPolicy: Delete)`);
  } catch (error) {
    await writeStatus(context, object, statusFields(object), { ...sqlFailure(error, `dropping ${owned.what} ${owned.key}`), reason: 'DeletionBlocked' });
    throw error;
  }
}

/**
 * The kind-specific status fields as they are (dbName, username, …): a
 * deletion that waits reports why in the Ready condition and keeps telling
 * what it is about.
 */
function statusFields(object: Reconciled): Record<string, unknown> {
  return Object.fromEntries(Object.entries(object.status ?? {}).filter(([key]) => key !== 'conditions' && key !== 'observedGeneration'));
}
