// The operator's HTTP endpoint wired as the operator wires it: leader election
// on the real API server decides readiness and starts a controller whose
// reconciles read real objects; Prometheus and the kubelet see the result on
// /metrics, /healthz and /readyz.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { Controller } from '../../src/runtime/controller.ts';
import { startHttpServer, type HttpServer } from '../../src/runtime/http.ts';
import { kubeconfigAccess } from '../../src/runtime/kubeconfig.ts';
import { KubeTransport, collectionPath } from '../../src/runtime/kube-request.ts';
import { LeaderElector } from '../../src/runtime/leaderelection.ts';
import { OperatorMetrics } from '../../src/runtime/metrics.ts';
import { kubectl } from '../env/kubectl.ts';
import { testEnvironment } from '../env/shared.ts';

// At module level rather than in before(): testEnvironment() registers its
// own after() hook, which must belong to the file, not to a hook.
const env = await testEnvironment();
const namespace = `http-${process.pid}`;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function get(port: number, path: string): Promise<{ status: number; body: string; contentType: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: response.status, body: await response.text(), contentType: response.headers.get('content-type') ?? '' };
}

async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const started = performance.now();
  while (!(await check())) {
    if (performance.now() - started > timeoutMs) assert.fail(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe('the HTTP endpoint of a running operator', () => {
  const kubeConfig = kubeconfigAccess(env.controlPlane.kubeconfig, {});
  const metrics = new OperatorMetrics();
  const logger = pino({ level: 'silent' });
  let server: HttpServer;
  let elector: LeaderElector;
  let controller: Controller;

  before(async () => {
    kubectl(env.controlPlane, ['create', 'namespace', namespace]);
    kubectl(env.controlPlane, ['create', 'configmap', 'present', '-n', namespace, '--from-literal=site=example']);
    const kube = new KubeTransport(kubeConfig);
    controller = new Controller({
      name: 'configmap',
      workers: 2,
      // A missing ConfigMap makes the read throw: an error, retried with backoff.
      reconcile: async (key) => {
        const [ns = '', name = ''] = key.split('/');
        await kube.json({ method: 'GET', path: `${collectionPath('v1', 'configmaps', ns)}/${encodeURIComponent(name)}` });
        return undefined;
      },
      queue: { baseDelayMs: 100 },
      metrics,
      logger,
    });
    elector = new LeaderElector({
      kubeConfig,
      namespace,
      name: 'flightdeck-http-test',
      identity: 'http-test',
      leaseDurationMs: 3_000,
      renewDeadlineMs: 2_000,
      retryPeriodMs: 500,
      logger,
      metrics,
      onStartedLeading: () => {
        controller.start();
      },
      onStoppedLeading: () => undefined,
    });
    server = await startHttpServer({ host: '127.0.0.1', port: 0, metrics, healthy: () => true, ready: () => elector.isLeader() });
  });

  after(async () => {
    await controller.stop();
    await elector.stop();
    await server.close();
  });

  it('is live at once, and ready only once it leads', async () => {
    assert.deepEqual(await get(server.port, '/healthz').then((r) => [r.status, r.body]), [200, 'ok']);
    assert.deepEqual(await get(server.port, '/readyz').then((r) => [r.status, r.body]), [503, 'not ready']);
    elector.run();
    await eventually('/readyz to answer 200', async () => (await get(server.port, '/readyz')).status === 200);
    assert.equal((await get(server.port, '/readyz')).body, 'ok');
  });

  it('/metrics shows the leader flag, reconciles, retries and queue, and process metrics', async () => {
    controller.enqueue(`${namespace}/present`);
    controller.enqueue(`${namespace}/missing`);
    await eventually('a success and two failed reconciles in /metrics', async () => {
      const { body } = await get(server.port, '/metrics');
      return (
        body.includes('flightdeck_reconcile_total{controller="configmap",result="success"} 1') &&
        /flightdeck_reconcile_total\{controller="configmap",result="error"\} [2-9]/.test(body)
      );
    });
    const { status, body, contentType } = await get(server.port, '/metrics');
    assert.equal(status, 200);
    assert.match(contentType, /^text\/plain/);
    for (const name of [
      'flightdeck_reconcile_total',
      'flightdeck_reconcile_duration_seconds',
      'flightdeck_reconcile_errors_total',
      'flightdeck_workqueue_depth',
      'flightdeck_workqueue_queue_duration_seconds',
      'flightdeck_workqueue_retries_total',
      'flightdeck_sql_statements_total',
      'flightdeck_sql_statement_duration_seconds',
      'flightdeck_leader',
    ]) {
      assert.match(body, new RegExp(`^# TYPE ${name} `, 'm'), name);
    }
    assert.match(body, /^flightdeck_leader 1$/m);
    assert.match(body, /^flightdeck_reconcile_errors_total\{controller="configmap"\} [2-9]/m);
    assert.match(body, /^flightdeck_workqueue_retries_total\{name="configmap"\} [2-9]/m);
    assert.match(body, /^flightdeck_reconcile_duration_seconds_count\{controller="configmap"\} \d+$/m);
    assert.match(body, /^process_resident_memory_bytes \d+/m);
  });

  it('reports the lost leadership once the elector stops', async () => {
    await controller.stop();
    await elector.stop();
    assert.deepEqual(await get(server.port, '/readyz').then((r) => [r.status, r.body]), [503, 'not ready']);
    assert.match((await get(server.port, '/metrics')).body, /^flightdeck_leader 0$/m);
  });
});
