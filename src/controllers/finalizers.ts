// Finalizers only where deletion has work to do: each reconciler decides
// whether its object needs one now (e.g. deletionPolicy: Delete) and these
// helpers make it so, writing only when the list has to change.
import type { KubeObject } from '../runtime/informer.ts';
import type { ControllerContext } from './context.ts';

type Finalizable = KubeObject & { apiVersion: string; kind: string };

function refOf(object: Finalizable): { apiVersion: string; kind: string; namespace?: string; name: string } {
  return {
    apiVersion: object.apiVersion,
    kind: object.kind,
    name: object.metadata.name,
    ...(object.metadata.namespace === undefined ? {} : { namespace: object.metadata.namespace }),
  };
}

/** Adds `finalizer` when `wanted` and absent, removes it when not wanted and present. */
export async function syncFinalizer(context: ControllerContext, object: Finalizable, finalizer: string, wanted: boolean): Promise<void> {
  const present = (object.metadata.finalizers ?? []).includes(finalizer);
  // The cached object saves a read; a stale one costs a retry, not a lost update.
  if (wanted && !present) await context.kube.addFinalizer(refOf(object), finalizer, object);
  if (!wanted && present) await context.kube.removeFinalizer(refOf(object), finalizer, object);
}

export async function removeFinalizer(context: ControllerContext, object: Finalizable, finalizer: string): Promise<void> {
  if ((object.metadata.finalizers ?? []).includes(finalizer)) await context.kube.removeFinalizer(refOf(object), finalizer, object);
}
