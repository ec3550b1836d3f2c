// Leader election on a real kube-apiserver: two candidates with short timings
// (lease 3 s, renew deadline 2 s, retry 0.5 s), as two operator replicas
// would run it. What is checked is what an administrator sees: who leads, the
// Lease object, and how long a takeover takes.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { before, describe, it, type TestContext } from 'node:test';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { Controller } from '../../src/runtime/controller.ts';
import type { KubeAccess } from '../../src/runtime/kube-access.ts';
import { KubeTransport } from '../../src/runtime/kube-request.ts';
import { kubeconfigAccess } from '../../src/runtime/kubeconfig.ts';
import { LeaderElector, type LeaderElectionOptions } from '../../src/runtime/leaderelection.ts';
import { OperatorMetrics } from '../../src/runtime/metrics.ts';
import { kubectl, type KubectlTarget } from '../env/kubectl.ts';
import { testEnvironment } from '../env/shared.ts';

const timings = { leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 500 };
const microTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

// At module level rather than in before(): testEnvironment() registers its
// own after() hook, which must belong to the file, not to a hook.
const env = await testEnvironment();
const target: KubectlTarget = env.controlPlane;
const kubeconfigPath = env.controlPlane.kubeconfig;
const namespace = `leader-${process.pid}`;
let leaseCounter = 0;

before(() => {
  kubectl(target, ['create', 'namespace', namespace]);
});

interface Candidate {
  readonly elector: LeaderElector;
  readonly identity: string;
  readonly events: string[];
  readonly metrics: OperatorMetrics;
}

function kubeConfigFrom(file: string): KubeAccess {
  return kubeconfigAccess(file, {});
}

/** A candidate for `lease`, stopped when the test ends. */
function candidate(t: TestContext, lease: string, identity: string, extra: Partial<LeaderElectionOptions> = {}): Candidate {
  const events: string[] = [];
  const metrics = new OperatorMetrics(new Registry());
  const elector = new LeaderElector({
    kubeConfig: kubeConfigFrom(kubeconfigPath),
    namespace,
    name: lease,
    identity,
    ...timings,
    logger: pino({ level: 'silent' }),
    metrics,
    onStartedLeading: () => events.push('started'),
    onStoppedLeading: () => events.push('stopped'),
    ...extra,
  });
  t.after(() => elector.stop());
  return { elector, identity, events, metrics };
}

function newLease(): string {
  return `flightdeck-${++leaseCounter}`;
}

interface LeaseObject {
  metadata: { resourceVersion: string };
  spec: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

function readLease(name: string): LeaseObject {
  return JSON.parse(kubectl(target, ['get', 'lease', name, '-n', namespace, '-o', 'json'])) as LeaseObject;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `condition` every 20 ms; returns the milliseconds it took, fails after `timeoutMs`. */
async function waitFor(what: string, condition: () => boolean, timeoutMs: number): Promise<number> {
  const started = performance.now();
  while (!condition()) {
    if (performance.now() - started > timeoutMs) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
  return performance.now() - started;
}

async function leaderOf(candidates: readonly Candidate[]): Promise<{ leader: Candidate; follower: Candidate }> {
  await waitFor('a leader', () => candidates.some((c) => c.elector.isLeader()), 5_000);
  const leader = candidates.find((c) => c.elector.isLeader());
  const follower = candidates.find((c) => c !== leader);
  assert.ok(leader !== undefined && follower !== undefined);
  return { leader, follower };
}

async function metricText(c: Candidate): Promise<string> {
  return c.metrics.registry.metrics();
}

describe('LeaderElector on a real API server', () => {
  it('of two candidates exactly one leads, and the Lease says so with microsecond timestamps', async (t) => {
    const lease = newLease();
    const a = candidate(t, lease, 'replica-a');
    const b = candidate(t, lease, 'replica-b');
    a.elector.run();
    b.elector.run();
    const { leader, follower } = await leaderOf([a, b]);

    // Over several renew periods, never two leaders and never a change of leader.
    for (let i = 0; i < 20; i++) {
      assert.equal(leader.elector.isLeader(), true, 'the leader keeps leading');
      assert.equal(follower.elector.isLeader(), false, 'the follower never leads meanwhile');
      await sleep(100);
    }
    assert.deepEqual(leader.events, ['started']);
    assert.deepEqual(follower.events, []);
    assert.match(await metricText(leader), /^flightdeck_leader 1$/m);
    assert.match(await metricText(follower), /^flightdeck_leader 0$/m);

    const first = readLease(lease);
    assert.equal(first.spec.holderIdentity, leader.identity);
    assert.equal(first.spec.leaseDurationSeconds, 3);
    assert.equal(first.spec.leaseTransitions, 0);
    assert.match(first.spec.renewTime ?? '', microTime);
    assert.match(first.spec.acquireTime ?? '', microTime);

    await sleep(1_200);
    const later = readLease(lease);
    assert.notEqual(later.spec.renewTime, first.spec.renewTime, 'the leader renews');
    assert.equal(later.spec.acquireTime, first.spec.acquireTime, 'renewing keeps the acquire time');
    assert.equal(later.spec.holderIdentity, leader.identity);
  });

  it('stop() releases the lease and the other candidate takes over at once', async (t) => {
    const lease = newLease();
    const a = candidate(t, lease, 'replica-a');
    const b = candidate(t, lease, 'replica-b');
    a.elector.run();
    b.elector.run();
    const { leader, follower } = await leaderOf([a, b]);

    await leader.elector.stop();
    assert.equal(leader.elector.isLeader(), false);
    assert.deepEqual(leader.events, ['started', 'stopped']);
    const released = readLease(lease);
    assert.ok(released.spec.holderIdentity === '' || released.spec.holderIdentity === follower.identity, 'released or already taken');

    // Well under the 3 s lease duration: the follower's next retry takes it.
    const tookMs = await waitFor('the follower to lead', () => follower.elector.isLeader(), 1_500);
    t.diagnostic(`takeover after release: ${Math.round(tookMs)} ms`);
    const taken = readLease(lease);
    assert.equal(taken.spec.holderIdentity, follower.identity);
    assert.equal(taken.spec.leaseTransitions, 1);
    assert.equal(taken.spec.leaseDurationSeconds, 3);
    assert.deepEqual(follower.events, ['started']);
  });

  it('a leader that dies without releasing is replaced after about the lease duration, not before', async (t) => {
    const lease = newLease();
    const a = candidate(t, lease, 'replica-a', { releaseOnStop: false });
    const b = candidate(t, lease, 'replica-b', { releaseOnStop: false });
    a.elector.run();
    b.elector.run();
    const { leader, follower } = await leaderOf([a, b]);
    await sleep(700); // let the follower see a renewal or two

    await leader.elector.stop(); // stops renewing; the Lease still names it
    const dead = readLease(lease);
    assert.equal(dead.spec.holderIdentity, leader.identity);

    // Takeover comes at most 3 s + 2 × 0.6 s (retries with jitter) after the stop.
    const tookMs = await waitFor('the follower to take the expired lease', () => follower.elector.isLeader(), 6_000);
    const taken = readLease(lease);
    assert.equal(taken.spec.holderIdentity, follower.identity);
    assert.equal(taken.spec.leaseTransitions, 1);
    // Not before the lease expired: the follower can only have seen the dead
    // leader's last renewal once it was written, so it may take over no
    // earlier than the lease duration after that renewal. Both times were
    // written on this machine's clock; measured from them, not from the stop,
    // a leader starved of CPU before it stopped (its last renewal late) does
    // not make a correct takeover look early.
    const afterRenewalMs = Date.parse(taken.spec.acquireTime ?? '') - Date.parse(dead.spec.renewTime ?? '');
    t.diagnostic(`takeover after a silent death: ${Math.round(tookMs)} ms after the stop, ${afterRenewalMs} ms after the last renewal`);
    assert.ok(afterRenewalMs >= 3_000 - 5, `took the lease ${afterRenewalMs} ms after its last renewal, before it could have expired (3 s)`);
    assert.ok(tookMs <= 4_700, `took over after ${Math.round(tookMs)} ms, long after the lease expired`);
  });

  it('a leader notices at once when the Lease is taken by someone else, and re-acquires it when that holder goes silent', async (t) => {
    const lease = newLease();
    const a = candidate(t, lease, 'replica-a');
    a.elector.run();
    await waitFor('replica-a to lead', () => a.elector.isLeader(), 5_000);

    // Another process (here: kubectl) writes itself into the lease.
    const current = readLease(lease);
    const intrudedAt = Date.now();
    kubectl(target, ['patch', 'lease', lease, '-n', namespace, '--type=merge', '-p', JSON.stringify({ spec: { holderIdentity: 'intruder' } })]);
    const noticedMs = await waitFor('replica-a to step down', () => !a.elector.isLeader(), 1_500);
    t.diagnostic(`noticed the new holder after ${Math.round(noticedMs)} ms`);
    // isLeader() turns false as soon as a renewal is overdue; the loop that
    // calls onStoppedLeading may run a moment later on a busy machine.
    await waitFor('replica-a to report that it stopped leading', () => a.events.includes('stopped'), 1_500);
    assert.deepEqual(a.events, ['started', 'stopped']);
    assert.equal(readLease(lease).spec.holderIdentity, 'intruder');
    assert.notEqual(readLease(lease).metadata.resourceVersion, current.metadata.resourceVersion);

    // The intruder never renews: after the lease duration replica-a takes it back.
    await waitFor('replica-a to lead again', () => a.elector.isLeader(), 5_000);
    assert.deepEqual(a.events, ['started', 'stopped', 'started']);
    const back = readLease(lease);
    assert.equal(back.spec.holderIdentity, 'replica-a');
    // Not before the intruder's lease expired: replica-a saw the intruder's
    // write no earlier than it was sent, and may take the lease back only the
    // lease duration (3 s) after it saw it. Measured on this machine's clock
    // from the write, not from when replica-a stepped down (late on a busy machine).
    const afterIntrusionMs = Date.parse(back.spec.acquireTime ?? '') - intrudedAt;
    t.diagnostic(`re-acquired ${afterIntrusionMs} ms after the intruder's write`);
    assert.ok(afterIntrusionMs >= 3_000 - 5, `re-acquired ${afterIntrusionMs} ms after the intruder's write, before its lease expired (3 s)`);
  });

  it('a deposed leader aborts its running reconcile at once, cutting off the request it waits on', async (t) => {
    const lease = newLease();
    const access = kubeConfigFrom(kubeconfigPath);
    // One transport for the elector and the reconciles, as the operator has.
    const transport = new KubeTransport(access);
    t.after(() => {
      transport.destroy();
    });
    const metrics = new OperatorMetrics(new Registry());
    let reconcileStarted = false;
    let reconcileFailure: unknown;
    const controller = new Controller({
      name: 'long',
      workers: 1,
      metrics,
      logger: pino({ level: 'silent' }),
      reconcile: async (_key, signal) => {
        reconcileStarted = true;
        try {
          // A reconcile that waits a minute on the API server (a watch nothing will answer), as a long step would.
          await transport.json({
            method: 'GET',
            path: `/api/v1/namespaces/${namespace}/configmaps`,
            query: { watch: true, timeoutSeconds: 60, labelSelector: 'flightdeck-test=never' },
            signal,
          });
        } catch (error) {
          reconcileFailure = error;
          throw error;
        }
        return undefined;
      },
    });
    let aborted: Promise<void> | undefined;
    let abortedAt = 0;
    const a = candidate(t, lease, 'replica-a', {
      transport,
      kubeConfig: access,
      onStartedLeading: () => {
        controller.start();
        controller.enqueue('ns/long');
      },
      onStoppedLeading: () => {
        aborted = controller.abort(new Error('replica-a lost the leadership')).then(() => {
          abortedAt = performance.now();
        });
      },
    });
    t.after(() => controller.stop());
    a.elector.run();
    await waitFor('the long reconcile to run', () => reconcileStarted, 5_000);
    await sleep(300);

    const deposedAt = performance.now();
    kubectl(target, ['patch', 'lease', lease, '-n', namespace, '--type=merge', '-p', JSON.stringify({ spec: { holderIdentity: 'intruder' } })]);
    await waitFor('the running reconcile to be aborted', () => abortedAt > 0, 3_000);
    await aborted;
    const stoppedMs = abortedAt - deposedAt;
    t.diagnostic(`the reconcile stopped ${Math.round(stoppedMs)} ms after the lease was taken`);
    // Noticed at the next renewal (every 500 ms), then cut off without waiting for the request.
    assert.ok(stoppedMs < timings.retryPeriodMs + 1_000, `stopped after ${Math.round(stoppedMs)} ms`);
    assert.ok(reconcileFailure instanceof Error);
    assert.equal(reconcileFailure.message, 'replica-a lost the leadership', 'the request ended with the abort reason');
    assert.match(await metrics.registry.metrics(), /^flightdeck_reconcile_total\{controller="long",result="aborted"\} 1$/m);
    assert.equal(a.elector.isLeader(), false);
  });

  it('a leader cut off from the API server stops leading within the renew deadline', async (t) => {
    const proxy = await startCuttableProxy(new URL(kubeConfigFrom(kubeconfigPath).server).port);
    t.after(() => proxy.close());
    const viaProxy = join(env.dir, `kubeconfig-proxy-${process.pid}`);
    writeFileSync(viaProxy, readFileSync(kubeconfigPath, 'utf8').replace(/server: https:\/\/127\.0\.0\.1:\d+/, `server: https://127.0.0.1:${proxy.port}`), {
      mode: 0o600,
    });
    const lease = newLease();
    const a = candidate(t, lease, 'replica-a', { kubeConfig: kubeConfigFrom(viaProxy) });
    a.elector.run();
    await waitFor('replica-a to lead', () => a.elector.isLeader(), 5_000);
    await sleep(600);

    // From now on requests hang: nothing answers, nothing fails fast.
    const cutAt = performance.now();
    proxy.cut();
    await waitFor('the callback for the lost leadership', () => a.events.includes('stopped'), 3_000);
    const steppedDownMs = performance.now() - cutAt;
    t.diagnostic(`stepped down ${Math.round(steppedDownMs)} ms after the cut`);
    assert.equal(a.elector.isLeader(), false);
    assert.ok(steppedDownMs <= timings.renewDeadlineMs + 300, `stepped down after ${Math.round(steppedDownMs)} ms`);
    assert.match(await metricText(a), /^flightdeck_leader 0$/m);
  });
});

interface CuttableProxy {
  readonly port: number;
  /** From now on, hold every connection open without forwarding a byte. */
  cut(): void;
  close(): Promise<void>;
}

/** A TCP proxy on 127.0.0.1 to `targetPort` that can be made to black-hole traffic, as a partitioned network does. */
async function startCuttableProxy(targetPort: string): Promise<CuttableProxy> {
  const sockets = new Set<Socket>();
  let cut = false;
  const server: Server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    if (cut) return; // accepted, never answered
    const upstream = connect(Number(targetPort), '127.0.0.1');
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.on('data', (chunk: Buffer) => {
      if (!cut) upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!cut) client.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  return {
    port: address.port,
    cut: () => {
      cut = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => {
          resolve();
        });
      }),
  };
}
