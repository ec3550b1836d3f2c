import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { kubeAccess, staticCredentials } from './kube-access.ts';
import { KubeApiError, KubeClient, statusCodeOf } from './kube.ts';

describe('statusCodeOf', () => {
  it('reads the status of our own errors', () => {
    const error = new KubeApiError('GET /api/v1/namespaces/x', 404, { reason: 'NotFound', message: 'namespaces "x" not found' });
    assert.equal(statusCodeOf(error), 404);
    assert.equal(error.reason, 'NotFound');
    assert.match(error.message, /GET \/api\/v1\/namespaces\/x: HTTP 404 NotFound: namespaces "x" not found/);
  });

  it('reads errors that carry an HTTP status as code or statusCode, and a watch Status', () => {
    assert.equal(statusCodeOf(Object.assign(new Error('Conflict'), { code: 409 })), 409);
    assert.equal(statusCodeOf(Object.assign(new Error('Gone'), { statusCode: 410 })), 410);
    assert.equal(statusCodeOf({ kind: 'Status', code: 410, reason: 'Expired' }), 410);
  });

  it('is undefined for network errors and anything without an HTTP status', () => {
    assert.equal(statusCodeOf(new Error('fetch failed')), undefined);
    assert.equal(statusCodeOf(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })), undefined);
    assert.equal(statusCodeOf({ code: 7 }), undefined);
    assert.equal(statusCodeOf(undefined), undefined);
    assert.equal(statusCodeOf('404'), undefined);
  });
});

describe('KubeClient.withSignal', () => {
  it('cuts off a request in flight when the signal aborts, and sends none after; the plain client is unaffected', async () => {
    const seen: string[] = [];
    const server = createServer((req, res) => {
      seen.push(`${req.method ?? ''} ${req.url ?? ''}`);
      if (req.url === '/api/v1') {
        res.end(JSON.stringify({ resources: [{ name: 'configmaps', kind: 'ConfigMap', namespaced: true }] }));
      } else if (req.url === '/api/v1/namespaces/ns/configmaps/slow') {
        // Never answers: a reconcile waiting on a hung request.
      } else {
        res.statusCode = 404;
        res.end('{}');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const client = new KubeClient(kubeAccess({ server: `http://127.0.0.1:${port}`, source: 'test', credentials: staticCredentials({}) }), 'test');
      const abort = new AbortController();
      const scoped = client.withSignal(abort.signal);
      const ref = { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'ns' };
      const pending = scoped.get({ ...ref, name: 'slow' });
      await new Promise((resolve) => setTimeout(resolve, 100));
      const reason = new Error('lost the lease');
      const started = performance.now();
      abort.abort(reason);
      await assert.rejects(pending, (error) => error === reason);
      assert.ok(performance.now() - started < 100, 'rejected at once');
      const sent = seen.length;
      await assert.rejects(scoped.get({ ...ref, name: 'other' }), (error) => error === reason);
      assert.equal(seen.length, sent, 'nothing sent after the abort');
      assert.equal(await client.get({ ...ref, name: 'other' }), undefined, 'the client it came from still works');
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
