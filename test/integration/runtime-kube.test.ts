// KubeClient against a real kube-apiserver: server-side apply of objects and
// of the status subresource, create/get/delete with their documented
// not-found and already-exists answers, and finalizers under concurrent
// writers.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KubeClient, statusCodeOf, type ObjectRef } from '../../src/runtime/kube.ts';
import { setCondition } from '../../src/runtime/conditions.ts';
import type { Condition } from '../../src/api/common.ts';
import type { KubeObject } from '../../src/runtime/informer.ts';
import { kubectl, type KubectlTarget } from '../env/kubectl.ts';
import { testEnvironment } from '../env/shared.ts';
import { freshNamespace, kubeConfigOf } from './runtime-kube-support.ts';

interface Database extends KubeObject {
  spec: { cluster: { name: string }; encoding?: string; deletionPolicy?: string };
  status?: { conditions?: Condition[]; observedGeneration?: number; dbName?: string };
}

interface ManagedFieldsEntry {
  manager: string;
  operation: string;
  subresource?: string;
}

interface Stored extends Database {
  metadata: Database['metadata'] & { managedFields?: ManagedFieldsEntry[] };
}

const fieldManager = 'flightdeck-test';
// Top-level await, not a before() hook: testEnvironment() registers the
// teardown of a file's own environment with after(), which node:test runs
// right after the hook it is called in, but after all tests at the top level.
const k: KubectlTarget = (await testEnvironment()).controlPlane;
const kube = new KubeClient(kubeConfigOf(k), fieldManager);

/** The object as kubectl shows it, managedFields included. */
function getJson(kind: string, name: string, namespace: string): Stored & { data?: Record<string, string> } {
  return JSON.parse(kubectl(k, ['get', kind, name, '-n', namespace, '-o', 'json', '--show-managed-fields'])) as Stored & {
    data?: Record<string, string>;
  };
}

const databaseRef = (namespace: string, name: string): ObjectRef => ({
  apiVersion: 'flightdeck.t7.io/v1',
  kind: 'MySQLDatabase',
  namespace,
  name,
});

function database(namespace: string, name: string, spec: Partial<Database['spec']> = {}, labels?: Record<string, string>): Database {
  return {
    apiVersion: 'flightdeck.t7.io/v1',
    kind: 'MySQLDatabase',
    metadata: { name, namespace, ...(labels === undefined ? {} : { labels }) },
    spec: { cluster: { name: 'db' }, ...spec },
  };
}

describe('KubeClient.apply', () => {
  it('creates, then updates with server-side apply, owning only the fields it sets', async () => {
    const ns = freshNamespace(k, 'kube-apply');
    const created = await kube.apply(database(ns, 'site', { encoding: 'utf8mb4' }, { app: 'site', tier: 'db' }));
    assert.equal(created.metadata.generation, 1);
    assert.ok(created.metadata.uid !== undefined);
    assert.equal(created.spec.deletionPolicy, 'Retain', 'the stored object, with defaults');

    // A user adds a label of their own.
    kubectl(k, ['label', 'mysqldatabase', 'site', '-n', ns, 'owner=alice']);

    // The next apply no longer names the tier label and changes the encoding.
    const updated = await kube.apply(database(ns, 'site', { encoding: 'latin1' }, { app: 'site' }));
    assert.equal(updated.metadata.uid, created.metadata.uid);
    assert.equal(updated.metadata.generation, 2);

    const stored = getJson('mysqldatabase', 'site', ns);
    assert.equal(stored.spec.encoding, 'latin1');
    assert.deepEqual(stored.metadata.labels, { app: 'site', owner: 'alice' }, 'own label dropped, the user label kept');
    assert.ok(stored.metadata.managedFields?.some((m) => m.manager === fieldManager && m.operation === 'Apply'));
  });

  it('forces ownership of fields another manager set', async () => {
    const ns = freshNamespace(k, 'kube-force');
    kubectl(k, ['apply', '--server-side', '--field-manager=someone-else', '-f', '-'], JSON.stringify(database(ns, 'site', { encoding: 'utf8mb4' })));
    const result = await kube.apply(database(ns, 'site', { encoding: 'latin1' }));
    assert.equal(result.spec.encoding, 'latin1');
  });

  it('applies core kinds too (a Secret)', async () => {
    const ns = freshNamespace(k, 'kube-secret');
    const secret = await kube.apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'conn', namespace: ns },
      type: 'Opaque',
      stringData: { password: 'pw' },
    });
    assert.equal(secret.kind, 'Secret');
    const stored = getJson('secret', 'conn', ns);
    assert.equal(Buffer.from(stored.data?.password ?? '', 'base64').toString(), 'pw');
  });

  it('fails with the status code of a refused object', async () => {
    const ns = freshNamespace(k, 'kube-invalid');
    const error: unknown = await kube.apply(database(ns, 'site', { encoding: 'no spaces allowed' })).catch((e: unknown) => e);
    assert.equal(statusCodeOf(error), 422);
    assert.match(String(error), /encoding/);
  });
});

describe('KubeClient.applyStatus', () => {
  it('writes the status subresource without touching spec or generation', async () => {
    const ns = freshNamespace(k, 'kube-status');
    const created = await kube.apply(database(ns, 'site'));
    const conditions = setCondition(undefined, { type: 'Ready', status: 'True', reason: 'Created', message: 'database created' }, 1, new Date());

    const result = await kube.applyStatus({
      apiVersion: 'flightdeck.t7.io/v1',
      kind: 'MySQLDatabase',
      metadata: { name: 'site', namespace: ns },
      status: { conditions, observedGeneration: 1, dbName: 'site' },
      // A spec in a status apply must be ignored by the server.
      spec: { cluster: { name: 'other' } },
    });
    assert.equal(result.status.dbName, 'site');

    const stored = getJson('mysqldatabase', 'site', ns);
    assert.deepEqual(stored.status, { conditions, observedGeneration: 1, dbName: 'site' });
    assert.deepEqual(stored.spec, created.spec);
    assert.equal(stored.metadata.generation, 1);
    assert.ok(stored.metadata.managedFields?.some((m) => m.manager === fieldManager && m.subresource === 'status'));

    // kubectl shows it in the printer columns.
    assert.match(kubectl(k, ['get', 'mysqldatabase', 'site', '-n', ns]), /True\s+Created/);

    // A later status apply that leaves a field out removes it (the manager owned it).
    await kube.applyStatus({
      apiVersion: 'flightdeck.t7.io/v1',
      kind: 'MySQLDatabase',
      metadata: { name: 'site', namespace: ns },
      status: { conditions, observedGeneration: 1 },
    });
    assert.equal(getJson('mysqldatabase', 'site', ns).status?.dbName, undefined);

    // Applying the main resource does not write status.
    await kube.apply({ ...database(ns, 'site'), status: { dbName: 'ignored' } });
    assert.equal(getJson('mysqldatabase', 'site', ns).status?.dbName, undefined);
  });

  it('fails with 404 for an object that does not exist', async () => {
    const ns = freshNamespace(k, 'kube-status-404');
    const error: unknown = await kube
      .applyStatus({ apiVersion: 'flightdeck.t7.io/v1', kind: 'MySQLDatabase', metadata: { name: 'none', namespace: ns }, status: {} })
      .catch((e: unknown) => e);
    assert.equal(statusCodeOf(error), 404);
  });
});

describe('KubeClient.get / create / delete', () => {
  it('get returns the object, or undefined when there is none', async () => {
    const ns = freshNamespace(k, 'kube-get');
    assert.equal(await kube.get(databaseRef(ns, 'site')), undefined);
    await kube.apply(database(ns, 'site'));
    const found = await kube.get<Database>(databaseRef(ns, 'site'));
    assert.equal(found?.spec.cluster.name, 'db');
    // Cluster-scoped kinds: the namespace is the ref's name.
    const namespace = await kube.get({ apiVersion: 'v1', kind: 'Namespace', name: ns });
    assert.equal(namespace?.metadata.name, ns);
  });

  it('create returns the new object, and undefined when it already exists (leaving it unchanged)', async () => {
    const ns = freshNamespace(k, 'kube-create');
    const password = (value: string) => ({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'password', namespace: ns },
      stringData: { password: value },
    });
    const created = await kube.create<KubeObject>(password('first'));
    assert.ok(created?.metadata.uid !== undefined);
    assert.equal(await kube.create(password('second')), undefined);
    const stored = getJson('secret', 'password', ns);
    assert.equal(Buffer.from(stored.data?.password ?? '', 'base64').toString(), 'first');
  });

  it('delete returns true when the object was there and false when not', async () => {
    const ns = freshNamespace(k, 'kube-delete');
    await kube.apply(database(ns, 'site'));
    assert.equal(await kube.delete(databaseRef(ns, 'site')), true);
    assert.equal(await kube.get(databaseRef(ns, 'site')), undefined);
    assert.equal(await kube.delete(databaseRef(ns, 'site')), false);
  });

  it('names an unknown kind in its error', async () => {
    await assert.rejects(kube.get({ apiVersion: 'flightdeck.t7.io/v1', kind: 'NoSuchKind', namespace: 'default', name: 'x' }), /NoSuchKind/);
  });
});

describe('KubeClient finalizers', () => {
  const finalizer = 'flightdeck.t7.io/cleanup';

  it('adds and removes a finalizer idempotently, keeping other finalizers', async () => {
    const ns = freshNamespace(k, 'kube-finalizer');
    await kube.apply(database(ns, 'site'));
    const ref = databaseRef(ns, 'site');
    const finalizers = async () => (await kube.get(ref))?.metadata.finalizers;

    await kube.addFinalizer(ref, finalizer);
    await kube.addFinalizer(ref, finalizer);
    assert.deepEqual(await finalizers(), [finalizer]);

    kubectl(k, ['patch', 'mysqldatabase', 'site', '-n', ns, '--type=json', '-p', '[{"op":"add","path":"/metadata/finalizers/-","value":"example.com/other"}]']);
    await kube.addFinalizer(ref, finalizer);
    assert.deepEqual(await finalizers(), [finalizer, 'example.com/other']);

    await kube.removeFinalizer(ref, finalizer);
    await kube.removeFinalizer(ref, finalizer);
    assert.deepEqual(await finalizers(), ['example.com/other']);
  });

  it('loses no finalizer when several writers add theirs at once', async () => {
    const ns = freshNamespace(k, 'kube-finalizer-race');
    await kube.apply(database(ns, 'site'));
    const ref = databaseRef(ns, 'site');
    const names = Array.from({ length: 6 }, (_, i) => `example.com/writer-${i}`);
    // Separate clients, like separate processes.
    const writers = names.map((name) => ({ name, client: new KubeClient(kubeConfigOf(k), fieldManager) }));
    await Promise.all(writers.map((w) => w.client.addFinalizer(ref, w.name)));
    assert.deepEqual((await kube.get(ref))?.metadata.finalizers?.toSorted(), names);

    await Promise.all(writers.slice(0, 4).map((w) => w.client.removeFinalizer(ref, w.name)));
    assert.deepEqual((await kube.get(ref))?.metadata.finalizers?.toSorted(), names.slice(4));
  });

  it('removing the last finalizer of a deleted object lets it go; removing from a gone object is a no-op', async () => {
    const ns = freshNamespace(k, 'kube-finalizer-delete');
    await kube.apply(database(ns, 'site'));
    const ref = databaseRef(ns, 'site');
    await kube.addFinalizer(ref, finalizer);
    assert.equal(await kube.delete(ref), true);
    const terminating = await kube.get(ref);
    assert.ok(terminating?.metadata.deletionTimestamp !== undefined, 'held by the finalizer');

    // No new finalizers on an object being deleted: the API server refuses.
    const error: unknown = await kube.addFinalizer(ref, 'example.com/late').catch((e: unknown) => e);
    assert.equal(statusCodeOf(error), 422);

    await kube.removeFinalizer(ref, finalizer);
    assert.equal(await kube.get(ref), undefined);
    await kube.removeFinalizer(ref, finalizer);
  });

  it('addFinalizer fails with 404 for an object that does not exist', async () => {
    const ns = freshNamespace(k, 'kube-finalizer-404');
    const error: unknown = await kube.addFinalizer(databaseRef(ns, 'none'), finalizer).catch((e: unknown) => e);
    assert.equal(statusCodeOf(error), 404);
  });
});
