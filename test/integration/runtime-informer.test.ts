// The informer against a real kube-apiserver: the initial list, changes as
// they happen, pages, a relist after 410 Gone that reports what was missed,
// and watches that end and resume without losing or repeating changes.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { Informer, type InformerEvent, type InformerOptions, type KubeObject } from '../../src/runtime/informer.ts';
import { kubectl, type KubectlTarget } from '../env/kubectl.ts';
import { testEnvironment } from '../env/shared.ts';
import { capturedLogger, eventually, freshNamespace, kubeConfigOf } from './runtime-kube-support.ts';

interface Database extends KubeObject {
  spec: { cluster: { name: string }; encoding?: string };
}

interface Secret extends KubeObject {
  data?: Record<string, string>;
}

interface Seen<T> {
  event: InformerEvent;
  object: T;
  previous: T | undefined;
}

// Top-level await, not a before() hook: testEnvironment() registers the
// teardown of a file's own environment with after(), which node:test runs
// right after the hook it is called in, but after all tests at the top level.
const k: KubectlTarget = (await testEnvironment()).controlPlane;
const informers: { stop(): void }[] = [];

after(() => {
  for (const informer of informers) informer.stop();
});

function database(namespace: string, name: string, encoding?: string): Database {
  return {
    apiVersion: 'flightdeck.t7.io/v1',
    kind: 'MySQLDatabase',
    metadata: { name, namespace },
    spec: { cluster: { name: 'db' }, ...(encoding === undefined ? {} : { encoding }) },
  };
}

function apply(...objects: object[]): void {
  kubectl(k, ['apply', '-f', '-'], objects.map((o) => stringify(o)).join('---\n'));
}

/** An informer of MySQLDatabases whose events are collected; stopped after the file's tests. */
function databaseInformer(
  namespace: string,
  extra: Partial<InformerOptions> = {},
): { informer: Informer<Database>; seen: Seen<Database>[]; log: ReturnType<typeof capturedLogger> } {
  const log = capturedLogger();
  const informer = new Informer<Database>({
    kubeConfig: kubeConfigOf(k),
    apiVersion: 'flightdeck.t7.io/v1',
    plural: 'mysqldatabases',
    namespace,
    logger: log.logger,
    initialBackoffMs: 50,
    maxBackoffMs: 500,
    ...extra,
  });
  informers.push(informer);
  const seen: Seen<Database>[] = [];
  informer.onChange((event, object, previous) => {
    seen.push({ event, object, previous });
  });
  return { informer, seen, log };
}

const names = (objects: readonly KubeObject[]): string[] => objects.map((o) => o.metadata.name).sort();
const summary = (seen: readonly Seen<KubeObject>[]): string[] => seen.map((s) => `${s.event} ${s.object.metadata.name}`);

describe('Informer of a custom resource', () => {
  it('lists what exists, then reports adds, updates and deletes as they happen', async () => {
    const ns = freshNamespace(k, 'inf-crud');
    apply(database(ns, 'one'));
    const { informer, seen } = databaseInformer(ns);
    assert.equal(informer.synced, false);
    await informer.start();

    assert.equal(informer.synced, true);
    assert.deepEqual(summary(seen), ['add one']);
    const one = informer.get(ns, 'one');
    assert.ok(one !== undefined);
    assert.equal(one.apiVersion, 'flightdeck.t7.io/v1');
    assert.equal(one.kind, 'MySQLDatabase');
    assert.equal(one.spec.cluster.name, 'db');
    assert.equal('managedFields' in one.metadata, false, 'managedFields are dropped');
    const stored = JSON.parse(kubectl(k, ['get', 'mysqldatabase', 'one', '-n', ns, '-o', 'json'])) as Database;
    const lastApplied = 'kubectl.kubernetes.io/last-applied-configuration';
    assert.ok(stored.metadata.annotations?.[lastApplied] !== undefined, 'kubectl apply stored its copy of the manifest');
    assert.equal(one.metadata.annotations?.[lastApplied], undefined, "kubectl's copy of the manifest is dropped");

    apply(database(ns, 'two'));
    await eventually('add of two', () => informer.get(ns, 'two') !== undefined);
    apply(database(ns, 'one', 'latin1'));
    await eventually('update of one', () => informer.get(ns, 'one')?.spec.encoding === 'latin1');
    kubectl(k, ['delete', 'mysqldatabase', 'two', '-n', ns]);
    await eventually('delete of two', () => informer.get(ns, 'two') === undefined);

    assert.deepEqual(summary(seen), ['add one', 'add two', 'update one', 'delete two']);
    const update = seen[2];
    assert.ok(update !== undefined);
    assert.equal(update.previous?.spec.encoding, undefined);
    assert.equal(update.object.spec.encoding, 'latin1');
    assert.equal(update.object.kind, 'MySQLDatabase');
    assert.equal(seen[3]?.previous?.metadata.name, 'two');
    assert.deepEqual(names(informer.list(ns)), ['one']);
    assert.deepEqual(names(informer.list()), ['one']);
    assert.deepEqual(informer.list('elsewhere'), []);
  });

  it('keeps indexes current through adds, updates, deletes and a relist after 410 Gone', async () => {
    const ns = freshNamespace(k, 'inf-index');
    apply(database(ns, 'one', 'utf8mb4'), database(ns, 'two', 'latin1'));
    const { informer } = databaseInformer(ns);
    informer.addIndex('encoding', (db) => (db.spec.encoding === undefined ? [] : [db.spec.encoding]));
    await informer.start();
    assert.deepEqual(names(informer.byIndex('encoding', 'utf8mb4')), ['one']);
    assert.deepEqual(names(informer.list(ns)), ['one', 'two']);

    apply(database(ns, 'two', 'utf8mb4'), database(ns, 'three', 'latin1'));
    await eventually('two re-filed and three added', () => informer.byIndex('encoding', 'utf8mb4').length === 2 && informer.byIndex('encoding', 'latin1').length === 1);
    assert.deepEqual(names(informer.byIndex('encoding', 'latin1')), ['three']);

    kubectl(k, ['delete', 'mysqldatabase', 'one', '-n', ns]);
    await eventually('one gone from its index', () => informer.byIndex('encoding', 'utf8mb4').length === 1);
    assert.deepEqual(names(informer.byIndex('encoding', 'utf8mb4')), ['two']);

    // Missed while not watching, then found by the relist.
    const resume = informer.interruptWatch();
    kubectl(k, ['delete', 'mysqldatabase', 'three', '-n', ns]);
    apply(database(ns, 'four', 'latin1'));
    resume('1');
    await eventually('the relist re-filed everything', () => informer.get(ns, 'four') !== undefined && informer.get(ns, 'three') === undefined);
    assert.deepEqual(names(informer.byIndex('encoding', 'latin1')), ['four']);
    assert.deepEqual(names(informer.byIndex('encoding', 'utf8mb4')), ['two']);
    assert.deepEqual(names(informer.list(ns)), ['four', 'two']);
    assert.deepEqual(informer.byIndex('encoding', 'none'), []);
  });

  it('lists in pages and still gets everything', async () => {
    const ns = freshNamespace(k, 'inf-pages');
    apply(...Array.from({ length: 11 }, (_, i) => database(ns, `db-${String(i).padStart(2, '0')}`)));
    const { informer, seen, log } = databaseInformer(ns, { pageSize: 4 });
    await informer.start();
    assert.equal(informer.list(ns).length, 11);
    assert.deepEqual(
      log.lines.filter((l) => l.msg === 'listed').map((l) => [l.objects, l.pages]),
      [[11, 3]],
    );
    assert.equal(seen.length, 11);
    assert.ok(seen.every((s) => s.event === 'add'));
    // The watch starts from the snapshot the pages were read from: a change
    // right after start is reported once.
    apply(database(ns, 'db-11'));
    await eventually('add of db-11', () => informer.get(ns, 'db-11') !== undefined);
    await sleep(200);
    assert.equal(seen.filter((s) => s.object.metadata.name === 'db-11').length, 1);
  });

  it('after 410 Gone lists again and reports what changed while it was not watching', async () => {
    const ns = freshNamespace(k, 'inf-gone');
    apply(database(ns, 'kept'), database(ns, 'changed'), database(ns, 'removed'));
    const { informer, seen, log } = databaseInformer(ns);
    await informer.start();
    assert.deepEqual(summary(seen).sort(), ['add changed', 'add kept', 'add removed']);
    seen.length = 0;

    const resume = informer.interruptWatch();
    await sleep(100);
    kubectl(k, ['delete', 'mysqldatabase', 'removed', '-n', ns]);
    apply(database(ns, 'changed', 'latin1'), database(ns, 'created'));
    await sleep(300);
    assert.equal(seen.length, 0, 'nothing is reported while not watching');

    // A watch from resourceVersion 1 is answered with 410 "too old resource version".
    resume('1');
    await eventually('the relist', () => seen.length >= 3);
    await sleep(200);
    assert.deepEqual(summary(seen).sort(), ['add created', 'delete removed', 'update changed']);
    const update = seen.find((s) => s.event === 'update');
    assert.ok(update !== undefined);
    assert.equal(update.previous?.spec.encoding, undefined);
    assert.equal(update.object.spec.encoding, 'latin1');
    const deleted = seen.find((s) => s.event === 'delete');
    assert.equal(deleted?.object.metadata.name, 'removed');
    assert.deepEqual(names(informer.list(ns)), ['changed', 'created', 'kept']);
    assert.ok(
      log.lines.some((l) => typeof l.msg === 'string' && l.msg.includes('410 Gone')),
      'the relist was caused by 410 Gone',
    );

    // And it keeps watching from the new list.
    kubectl(k, ['delete', 'mysqldatabase', 'kept', '-n', ns]);
    await eventually('delete of kept', () => informer.get(ns, 'kept') === undefined);
    assert.deepEqual(summary(seen.slice(3)), ['delete kept']);
  });

  it('resumes an interrupted watch from where it was, missing nothing and relisting nothing', async () => {
    const ns = freshNamespace(k, 'inf-resume');
    apply(database(ns, 'a'), database(ns, 'b'));
    const { informer, seen, log } = databaseInformer(ns);
    await informer.start();
    seen.length = 0;

    const resume = informer.interruptWatch();
    await sleep(100);
    kubectl(k, ['delete', 'mysqldatabase', 'a', '-n', ns]);
    apply(database(ns, 'b', 'latin1'), database(ns, 'c'));
    resume();
    await eventually('the missed changes', () => seen.length >= 3);
    await sleep(200);
    // In order, as they happened: the API server replays them from the last resourceVersion.
    assert.deepEqual(summary(seen), ['delete a', 'update b', 'add c']);
    assert.equal(
      log.lines.some((l) => typeof l.msg === 'string' && l.msg.includes('listing again')),
      false,
    );
  });

  it('watches again when the API server ends a watch, without losing or repeating changes', async () => {
    const ns = freshNamespace(k, 'inf-timeout');
    const { informer, seen } = databaseInformer(ns, { watchTimeoutSeconds: 1 });
    await informer.start();
    // Several watches end and begin while changes keep coming.
    for (let i = 0; i < 6; i++) {
      apply(database(ns, `db-${i}`));
      await sleep(600);
    }
    apply(database(ns, 'db-0', 'latin1'));
    await eventually('all changes', () => informer.list(ns).length === 6 && informer.get(ns, 'db-0')?.spec.encoding === 'latin1');
    await sleep(1500);
    assert.deepEqual(summary(seen), ['add db-0', 'add db-1', 'add db-2', 'add db-3', 'add db-4', 'add db-5', 'update db-0']);
  });

  it('replaces a watch that goes silent, as on a dead connection, and still reports every change once', async () => {
    const ns = freshNamespace(k, 'inf-idle');
    // Nothing arrives within 300 ms on a quiet watch (bookmarks come about
    // once a minute), so each watch is given up for dead and replaced.
    const { informer, seen, log } = databaseInformer(ns, { watchIdleTimeoutMs: 300, maxBackoffMs: 100 });
    await informer.start();
    for (let i = 0; i < 3; i++) {
      await sleep(700);
      apply(database(ns, `db-${i}`));
    }
    await eventually('all adds', () => informer.list(ns).length === 3);
    await sleep(500);
    assert.deepEqual(summary(seen), ['add db-0', 'add db-1', 'add db-2']);
    const replaced = log.lines.filter((l) => JSON.stringify(l.err ?? '').includes('taking the connection for dead'));
    assert.ok(replaced.length >= 2, `silent watches were replaced (${replaced.length})`);
  });

  it('hands every cached object to the handlers again at the resync interval', async () => {
    const ns = freshNamespace(k, 'inf-resync');
    apply(database(ns, 'first'), database(ns, 'second'));
    const { informer, seen } = databaseInformer(ns, { resyncIntervalMs: 200 });
    await informer.start();
    await eventually('two resyncs', () => seen.filter((s) => s.event === 'update').length >= 4);
    const resyncs = seen.filter((s) => s.event === 'update');
    assert.ok(resyncs.every((s) => s.previous === s.object));
    assert.deepEqual([...new Set(resyncs.map((s) => s.object.metadata.name))].sort(), ['first', 'second']);
    informer.stop();
    const count = seen.length;
    await sleep(500);
    assert.equal(seen.length, count, 'no resync after stop');
  });

  it('applies the transform, replays the cache to late handlers, and survives a throwing handler', async () => {
    const ns = freshNamespace(k, 'inf-transform');
    kubectl(k, ['apply', '-f', '-'], stringify({ ...database(ns, 'big'), metadata: { name: 'big', namespace: ns, annotations: { note: 'x'.repeat(1000) } } }));
    const { informer, log } = databaseInformer(ns, {
      transform: (object) => ({ ...object, metadata: { ...object.metadata, annotations: {} } }),
    });
    informer.onChange(() => {
      throw new Error('handler bug');
    });
    await informer.start();
    assert.deepEqual(informer.get(ns, 'big')?.metadata.annotations, {});
    assert.ok(log.lines.some((l) => l.msg === 'informer handler threw'));

    const late: string[] = [];
    informer.onChange((event, object) => {
      late.push(`${event} ${object.metadata.name}`);
    });
    assert.deepEqual(late, ['add big']);
    apply(database(ns, 'small'));
    await eventually('add of small', () => late.length === 2);
    assert.deepEqual(late, ['add big', 'add small']);
  });

  it('keeps retrying a list the API server refuses, and start() rejects when stopped first', async () => {
    const log = capturedLogger();
    const informer = new Informer<KubeObject>({
      kubeConfig: kubeConfigOf(k),
      apiVersion: 'flightdeck.t7.io/v1',
      plural: 'nosuchthings',
      logger: log.logger,
      initialBackoffMs: 20,
      maxBackoffMs: 50,
    });
    const started = informer.start();
    await eventually('a few failed lists', () => log.lines.filter((l) => l.msg === 'list failed; retrying').length >= 3);
    assert.equal(informer.synced, false);
    informer.stop();
    await assert.rejects(started, /stopped before its cache synced/);
  });
});

describe('Informer of Secrets', () => {
  it('follows Secrets across namespaces by label, and never logs their data', async () => {
    const ns1 = freshNamespace(k, 'inf-secrets-a');
    const ns2 = freshNamespace(k, 'inf-secrets-b');
    const label = `test-${process.pid}-${Date.now()}`;
    const password = 'hunter2-very-secret-value';
    const secret = (namespace: string, name: string, value: string) => ({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name, namespace, labels: { 'flightdeck.t7.io/test': label } },
      stringData: { password: value },
    });
    apply(secret(ns1, 'first', password), { ...secret(ns1, 'unlabelled', password), metadata: { name: 'unlabelled', namespace: ns1 } });

    const log = capturedLogger();
    const informer = new Informer<Secret>({
      kubeConfig: kubeConfigOf(k),
      apiVersion: 'v1',
      plural: 'secrets',
      labelSelector: `flightdeck.t7.io/test=${label}`,
      logger: log.logger,
      watchTimeoutSeconds: 1,
    });
    informers.push(informer);
    const seen: Seen<Secret>[] = [];
    informer.onChange((event, object, previous) => {
      seen.push({ event, object, previous });
    });
    await informer.start();
    assert.deepEqual(summary(seen), ['add first']);
    const first = informer.get(ns1, 'first');
    assert.equal(first?.kind, 'Secret');
    assert.equal(Buffer.from(first.data?.password ?? '', 'base64').toString(), password);

    apply(secret(ns2, 'second', password));
    await eventually('add of second', () => informer.get(ns2, 'second') !== undefined);
    apply(secret(ns1, 'first', `${password}-rotated`));
    await eventually('update of first', () => informer.get(ns1, 'first')?.metadata.resourceVersion !== first.metadata.resourceVersion);
    kubectl(k, ['delete', 'secret', 'second', '-n', ns2]);
    await eventually('delete of second', () => informer.get(ns2, 'second') === undefined);
    // Removing the label takes the Secret out of the selection: a delete.
    kubectl(k, ['label', 'secret', 'first', '-n', ns1, 'flightdeck.t7.io/test-']);
    await eventually('first leaving the selection', () => informer.get(ns1, 'first') === undefined);
    assert.deepEqual(summary(seen), ['add first', 'add second', 'update first', 'delete second', 'delete first']);
    assert.deepEqual(informer.list(), []);

    // Let a watch or two end and restart (timeoutSeconds 1) so that the
    // informer's logging on those paths is covered too.
    await sleep(2500);
    const logged = log.text();
    assert.ok(logged.length > 0, 'the informer logged something');
    for (const value of [password, Buffer.from(password).toString('base64'), Buffer.from(`${password}-rotated`).toString('base64')]) {
      assert.equal(logged.includes(value), false, 'no Secret data in the log');
    }
    assert.equal(logged.includes('"data"'), false, 'no object in the log');
  });
});
