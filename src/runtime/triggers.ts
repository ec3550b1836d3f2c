// What queues a controller's keys, declared beside the controller instead of
// in a central hub (kube-rs's `.owns()` and `.watches()`, controller-runtime's
// Owns and Watches): each trigger names an informer and how one of its events
// maps to keys of the controller. The manager only connects the triggers a
// controller declares to that controller's queue.
import type { Informer, InformerEvent, KubeObject } from './informer.ts';

/** What a trigger needs of an informer: its events. */
export type EventSource<T extends KubeObject> = Pick<Informer<T>, 'onChange'>;

/**
 * The keys ("namespace/name") one informer event calls for. `previous` is the
 * object before an update (the same object for a periodic resync), undefined
 * for an add; for a delete, the last state seen.
 */
export type KeyMapper<T> = (event: InformerEvent, object: T, previous: T | undefined) => Iterable<string>;

/** One source of work for a controller. */
export interface Trigger {
  /** For logs: the resource the trigger watches and how it maps, e.g. `statefulsets owned by MySQLCluster`. */
  readonly description: string;
  /** Calls `enqueue` for every key an event of the informer maps to, from now on. Called once per controller. */
  connect(enqueue: (key: string) => void): void;
}

/** The kind of an owner, as an ownerReference names it. */
export interface OwnerKind {
  /** 'flightdeck.t7.io/v1'; only the group is compared, so an owner written under another version still matches. */
  readonly apiVersion: string;
  readonly kind: string;
}

/** Enqueues whatever `map` returns for each event of `informer`. */
export function watches<T extends KubeObject>(informer: EventSource<T>, description: string, map: KeyMapper<T>): Trigger {
  return {
    description,
    connect(enqueue) {
      informer.onChange((event, object, previous) => {
        for (const key of map(event, object, previous)) enqueue(key);
      });
    },
  };
}

/**
 * Enqueues the owner that an object's controller ownerReference names, when
 * that owner is of kind `owner` (the owner lives in the object's namespace:
 * Kubernetes allows no other). An update that moves the object to another
 * owner enqueues both. `when`, if given, filters events first — e.g. to skip
 * changes the owner's reconcile never reads.
 */
export function owns<T extends KubeObject>(
  informer: EventSource<T>,
  description: string,
  owner: OwnerKind,
  when?: (event: InformerEvent, object: T, previous: T | undefined) => boolean,
): Trigger {
  return watches(informer, description, (event, object, previous) => {
    if (when !== undefined && !when(event, object, previous)) return [];
    const keys = new Set(ownerKeys(object, owner));
    if (previous !== undefined && previous !== object) for (const key of ownerKeys(previous, owner)) keys.add(key);
    return keys;
  });
}

/** The key of the controller owner of kind `owner` that `object` names, as a list of none or one. */
export function ownerKeys(object: KubeObject, owner: OwnerKind): string[] {
  const group = groupOf(owner.apiVersion);
  const reference = object.metadata.ownerReferences?.find((r) => r.controller === true && r.kind === owner.kind && groupOf(r.apiVersion) === group);
  return reference === undefined ? [] : [`${object.metadata.namespace ?? ''}/${reference.name}`];
}

/**
 * Enqueues the object named by a label of each object: for children that
 * carry their parent's name in a label rather than in an ownerReference to it
 * (a StatefulSet's Pods and PVCs are owned by the StatefulSet, not by the
 * MySQLCluster that owns the StatefulSet).
 */
export function labelled<T extends KubeObject>(informer: EventSource<T>, description: string, label: string): Trigger {
  return watches(informer, description, (_event, object, previous) => {
    const keys = new Set<string>();
    for (const o of previous === undefined ? [object] : [object, previous]) {
      const name = o.metadata.labels?.[label];
      if (name !== undefined && name !== '') keys.add(`${o.metadata.namespace ?? ''}/${name}`);
    }
    return keys;
  });
}

/**
 * A mapper that goes through an index of another cache: for an event of a T,
 * the objects `via` files under `indexKeyOf(T)`, each mapped to keys by
 * `keysOf`. For example Nodes to MySQLClusters: the Pods indexed by node name,
 * each mapped to the cluster named in its label — a Node event then costs a
 * map lookup, not a pass over every Pod.
 */
export function throughIndex<T extends KubeObject, V extends KubeObject>(
  via: Pick<Informer<V>, 'byIndex'>,
  index: string,
  indexKeyOf: (object: T) => string | undefined,
  keysOf: (object: V) => Iterable<string>,
): KeyMapper<T> {
  return (_event, object) => {
    const indexKey = indexKeyOf(object);
    if (indexKey === undefined) return [];
    const keys = new Set<string>();
    for (const found of via.byIndex(index, indexKey)) for (const key of keysOf(found)) keys.add(key);
    return keys;
  };
}

function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}
