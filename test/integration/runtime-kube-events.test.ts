// EventRecorder against a real kube-apiserver: what `kubectl describe` shows
// for a MySQLDatabase, and repeats counted on one Event instead of many.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventRecorder } from '../../src/runtime/events.ts';
import { KubeClient } from '../../src/runtime/kube.ts';
import type { KubeObject } from '../../src/runtime/informer.ts';
import { kubectl, type KubectlTarget } from '../env/kubectl.ts';
import { testEnvironment } from '../env/shared.ts';
import { capturedLogger, freshNamespace, kubeConfigOf } from './runtime-kube-support.ts';

interface CoreEvent {
  metadata: { name: string };
  involvedObject: { kind: string; name: string; namespace?: string; uid?: string };
  reason: string;
  message: string;
  type: string;
  count: number;
  firstTimestamp: string;
  lastTimestamp: string;
  source: { component: string };
}

// Top-level await, not a before() hook: testEnvironment() registers the
// teardown of a file's own environment with after(), which node:test runs
// right after the hook it is called in, but after all tests at the top level.
const k: KubectlTarget = (await testEnvironment()).controlPlane;
const kube = new KubeClient(kubeConfigOf(k), 'flightdeck-test');

type Subject = KubeObject & { apiVersion: string; kind: string };

async function createDatabase(namespace: string, name: string): Promise<Subject> {
  const stored = await kube.apply({
    apiVersion: 'flightdeck.t7.io/v1',
    kind: 'MySQLDatabase',
    metadata: { name, namespace },
    spec: { cluster: { name: 'db' } },
  });
  return { ...stored, apiVersion: 'flightdeck.t7.io/v1', kind: 'MySQLDatabase' };
}

function eventsOf(namespace: string, uid: string): CoreEvent[] {
  const list = JSON.parse(
    kubectl(k, ['get', 'events', '-n', namespace, '--field-selector', `involvedObject.uid=${uid}`, '-o', 'json']),
  ) as { items: CoreEvent[] };
  return list.items;
}

/** A recorder whose clock the test sets. */
function recorder(start: Date) {
  let now = start;
  const log = capturedLogger();
  const events = new EventRecorder({
    kubeConfig: kubeConfigOf(k),
    component: 'flightdeck-operator',
    logger: log.logger,
    now: () => now,
    instance: 'test-instance',
  });
  return {
    events,
    log,
    advance(ms: number) {
      now = new Date(now.getTime() + ms);
    },
  };
}

describe('EventRecorder', () => {
  it('records an Event that kubectl describe shows for a MySQLDatabase', async () => {
    const ns = freshNamespace(k, 'events-describe');
    const db = await createDatabase(ns, 'site');
    const { events } = recorder(new Date());
    events.record(db, 'Warning', 'ClusterNotFound', 'MySQLCluster db not found in ' + ns);
    await events.flush();

    const describe = kubectl(k, ['describe', 'mysqldatabase', 'site', '-n', ns]);
    assert.match(describe, /Events:/);
    assert.match(describe, new RegExp(`Warning\\s+ClusterNotFound\\s+\\S+\\s+flightdeck-operator\\s+MySQLCluster db not found in ${ns}`));

    const [event, ...more] = eventsOf(ns, db.metadata.uid ?? '');
    assert.deepEqual(more, []);
    assert.equal(event?.involvedObject.kind, 'MySQLDatabase');
    assert.equal(event.involvedObject.name, 'site');
    assert.equal(event.count, 1);
    assert.equal(event.source.component, 'flightdeck-operator');
  });

  it('counts repeats on one Event within ten minutes, and starts a new one after', async () => {
    const ns = freshNamespace(k, 'events-repeat');
    const db = await createDatabase(ns, 'site');
    const start = new Date(Date.now() - 30 * 60 * 1000);
    const clock = recorder(start);
    const { events } = clock;

    // Written back to back: the repeats must wait for the first Event to exist.
    for (let i = 0; i < 3; i++) events.record(db, 'Warning', 'ConnectFailed', 'cannot connect to MariaDB');
    await events.flush();
    let list = eventsOf(ns, db.metadata.uid ?? '');
    assert.equal(list.length, 1, 'one Event for three identical events');
    assert.equal(list[0]?.count, 3);

    clock.advance(5 * 60 * 1000);
    events.record(db, 'Warning', 'ConnectFailed', 'cannot connect to MariaDB');
    await events.flush();
    list = eventsOf(ns, db.metadata.uid ?? '');
    assert.equal(list.length, 1);
    assert.equal(list[0]?.count, 4);
    assert.equal(list[0].firstTimestamp, start.toISOString().replace(/\.\d+Z$/, 'Z'));
    assert.equal(list[0].lastTimestamp, new Date(start.getTime() + 5 * 60 * 1000).toISOString().replace(/\.\d+Z$/, 'Z'));
    // kubectl shows "<age of the last> (x<count> over <age of the first>)".
    assert.match(kubectl(k, ['describe', 'mysqldatabase', 'site', '-n', ns]), /2[45]m \(x4 over 30m\)\s+flightdeck-operator\s+cannot connect to MariaDB/);

    // Another message, or the same one more than ten minutes later: new Events.
    events.record(db, 'Warning', 'ConnectFailed', 'access denied');
    clock.advance(11 * 60 * 1000);
    events.record(db, 'Warning', 'ConnectFailed', 'cannot connect to MariaDB');
    await events.flush();
    list = eventsOf(ns, db.metadata.uid ?? '');
    assert.deepEqual(
      list.map((e) => `${e.message} x${e.count}`).sort(),
      ['access denied x1', 'cannot connect to MariaDB x1', 'cannot connect to MariaDB x4'],
    );
  });

  it('starts a new Event when the one it counted on was deleted', async () => {
    const ns = freshNamespace(k, 'events-expired');
    const db = await createDatabase(ns, 'site');
    const { events } = recorder(new Date());
    events.record(db, 'Normal', 'Created', 'database created');
    await events.flush();
    kubectl(k, ['delete', 'events', '--all', '-n', ns]);
    events.record(db, 'Normal', 'Created', 'database created');
    await events.flush();
    const list = eventsOf(ns, db.metadata.uid ?? '');
    assert.equal(list.length, 1);
    assert.equal(list[0]?.count, 1);
  });

  it('never throws: a failed write is logged and flush still resolves', async () => {
    const { events, log } = recorder(new Date());
    const ghost: Subject = {
      apiVersion: 'flightdeck.t7.io/v1',
      kind: 'MySQLDatabase',
      metadata: { name: 'ghost', namespace: `no-such-namespace-${process.pid}` },
    };
    events.record(ghost, 'Normal', 'Created', 'x');
    await events.flush();
    const warning = log.lines.find((l) => l.msg === 'could not record event');
    assert.ok(warning !== undefined);
    assert.equal(warning.name, 'ghost');
  });
});
