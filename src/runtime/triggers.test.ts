import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { InformerEvent, InformerHandler, KubeObject, OwnerReference } from './informer.ts';
import { labelled, ownerKeys, owns, throughIndex, watches, type EventSource } from './triggers.ts';

/** Stands in for an informer's event stream: the triggers only register a handler on it. */
class Events<T extends KubeObject> implements EventSource<T> {
  readonly #handlers: InformerHandler<T>[] = [];
  onChange(handler: InformerHandler<T>): void {
    this.#handlers.push(handler);
  }
  emit(event: InformerEvent, object: T, previous?: T): void {
    for (const handler of this.#handlers) handler(event, object, previous);
  }
}

const cluster = { apiVersion: 'flightdeck.t7.io/v1', kind: 'MySQLCluster' };

function ownedBy(name: string, owners: Partial<OwnerReference>[], labels?: Record<string, string>): KubeObject {
  return {
    metadata: {
      name,
      namespace: 'db',
      ...(labels === undefined ? {} : { labels }),
      ownerReferences: owners.map((o) => ({ apiVersion: 'flightdeck.t7.io/v1', kind: 'MySQLCluster', name: 'main', uid: 'u1', ...o })),
    },
  };
}

function collect(): { keys: string[]; enqueue: (key: string) => void } {
  const keys: string[] = [];
  return { keys, enqueue: (key) => keys.push(key) };
}

describe('ownerKeys', () => {
  it('names the controller owner of the kind, in the object namespace, whatever its version', () => {
    assert.deepEqual(ownerKeys(ownedBy('sts', [{ controller: true }]), cluster), ['db/main']);
    assert.deepEqual(ownerKeys(ownedBy('sts', [{ controller: true, apiVersion: 'flightdeck.t7.io/v2' }]), cluster), ['db/main']);
  });

  it('ignores owners that are not the controller, of another kind, or of another group', () => {
    assert.deepEqual(ownerKeys(ownedBy('sts', [{}]), cluster), []);
    assert.deepEqual(ownerKeys(ownedBy('sts', [{ controller: true, kind: 'MySQLUser' }]), cluster), []);
    assert.deepEqual(ownerKeys(ownedBy('sts', [{ controller: true, apiVersion: 'other.io/v1' }]), cluster), []);
    assert.deepEqual(ownerKeys({ metadata: { name: 'x', namespace: 'db' } }, cluster), []);
  });
});

describe('owns', () => {
  it('enqueues the owner on every event, both owners when the owner changes, and nothing for unowned objects', () => {
    const source = new Events<KubeObject>();
    const { keys, enqueue } = collect();
    owns(source, 'statefulsets owned by MySQLCluster', cluster).connect(enqueue);
    const first = ownedBy('sts', [{ controller: true }]);
    source.emit('add', first);
    source.emit('update', first, first);
    const moved = ownedBy('sts', [{ controller: true, name: 'other' }]);
    source.emit('update', moved, first);
    source.emit('add', ownedBy('stray', []));
    source.emit('delete', moved, moved);
    assert.deepEqual(keys, ['db/main', 'db/main', 'db/other', 'db/main', 'db/other']);
  });

  it('skips the events its filter rejects', () => {
    const source = new Events<KubeObject>();
    const { keys, enqueue } = collect();
    owns(source, 'services', cluster, (event) => event !== 'update').connect(enqueue);
    const svc = ownedBy('svc', [{ controller: true }]);
    source.emit('add', svc);
    source.emit('update', svc, svc);
    source.emit('delete', svc, svc);
    assert.deepEqual(keys, ['db/main', 'db/main']);
  });
});

describe('labelled', () => {
  it('enqueues the object a label names, and the one it named before a relabel', () => {
    const source = new Events<KubeObject>();
    const { keys, enqueue } = collect();
    labelled(source, 'pods by instance label', 'app.kubernetes.io/instance').connect(enqueue);
    const pod = ownedBy('main-0', [], { 'app.kubernetes.io/instance': 'main' });
    source.emit('add', pod);
    source.emit('update', ownedBy('main-0', [], { 'app.kubernetes.io/instance': 'next' }), pod);
    source.emit('add', ownedBy('unlabelled', []));
    assert.deepEqual(keys, ['db/main', 'db/next', 'db/main']);
  });
});

describe('watches with throughIndex', () => {
  it('maps an event through another cache index, each key once', () => {
    const pods: Record<string, KubeObject[]> = {
      'node-a': [ownedBy('main-0', [], { cluster: 'main' }), ownedBy('main-1', [], { cluster: 'main' }), ownedBy('other-0', [], { cluster: 'other' })],
    };
    const byIndex = (index: string, key: string): KubeObject[] => {
      assert.equal(index, 'pods-by-node');
      return pods[key] ?? [];
    };
    const source = new Events<KubeObject>();
    const { keys, enqueue } = collect();
    const map = throughIndex<KubeObject, KubeObject>({ byIndex }, 'pods-by-node', (node) => node.metadata.name, (pod) => [`db/${pod.metadata.labels?.cluster ?? ''}`]);
    watches(source, 'clusters with an instance on the node', map).connect(enqueue);
    source.emit('update', { metadata: { name: 'node-a' } });
    source.emit('update', { metadata: { name: 'node-b' } });
    assert.deepEqual(keys, ['db/main', 'db/other']);
  });
});
