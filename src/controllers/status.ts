// Writing an object's status: the Ready condition plus kind-specific fields,
// through the status subresource, only when something changed — a resync that
// finds nothing new writes nothing. A change of the Ready condition is also
// told as an Event, which `kubectl describe` shows.
import { isDeepStrictEqual } from 'node:util';
import type { Condition } from '../api/common.ts';
import { setCondition, type ConditionUpdate } from '../runtime/conditions.ts';
import type { ControllerContext } from './context.ts';

export interface StatusObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; generation?: number; uid?: string };
  status?: { conditions?: Condition[]; observedGeneration?: number };
}

/** The outcome of a reconcile as the Ready condition says it. */
export interface Readiness {
  readonly ready: boolean;
  readonly reason: string;
  readonly message: string;
}

export async function writeStatus(
  context: ControllerContext,
  object: StatusObject,
  fields: Record<string, unknown>,
  readiness: Readiness,
  /** Conditions besides Ready (e.g. a cluster's Replicating); changes of them are not told as Events. */
  otherConditions: readonly ConditionUpdate[] = [],
): Promise<void> {
  const generation = object.metadata.generation ?? 0;
  const update: ConditionUpdate = {
    type: 'Ready',
    status: readiness.ready ? 'True' : 'False',
    reason: readiness.reason,
    message: readiness.message,
  };
  const previous = object.status?.conditions?.find((c) => c.type === 'Ready');
  let conditions = setCondition(object.status?.conditions, update, generation, context.now());
  for (const other of otherConditions) conditions = setCondition(conditions, other, generation, context.now());
  const status = { ...fields, conditions, observedGeneration: generation };
  if (isDeepStrictEqual(stripUndefined(object.status ?? {}), stripUndefined(status))) return;

  await context.kube.applyStatus({
    apiVersion: object.apiVersion,
    kind: object.kind,
    metadata: { name: object.metadata.name, ...(object.metadata.namespace === undefined ? {} : { namespace: object.metadata.namespace }) },
    status,
  });
  // Problems are told each time they change; a first Ready is told by the
  // reconciler's own event (Created, Adopted…), a recovery here.
  const changed = previous?.status !== update.status || previous.reason !== update.reason;
  if (changed && (!readiness.ready || previous?.status === 'False')) {
    context.events.record(
      { apiVersion: object.apiVersion, kind: object.kind, metadata: object.metadata },
      readiness.ready ? 'Normal' : 'Warning',
      readiness.reason,
      readiness.message,
    );
  }
}

/** JSON round trip: drops undefined fields so that stored and computed status compare equal. */
function stripUndefined(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value)) as unknown;
}
