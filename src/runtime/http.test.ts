import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { startHttpServer, type HttpServer } from './http.ts';
import { OperatorMetrics } from './metrics.ts';

interface Answer {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

function call(port: number, path: string, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), headers: res.headers });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('startHttpServer', () => {
  const metrics = new OperatorMetrics(new Registry());
  let healthy: () => boolean = () => true;
  let ready: () => boolean = () => true;
  let server: HttpServer;

  before(async () => {
    server = await startHttpServer({ host: '127.0.0.1', port: 0, metrics, healthy: () => healthy(), ready: () => ready() });
  });
  after(async () => {
    await server.close();
  });

  it('serves the metrics in Prometheus text format', async () => {
    metrics.observeReconcile('mysqluser', 'success', 0.1);
    const answer = await call(server.port, '/metrics');
    assert.equal(answer.status, 200);
    assert.match(String(answer.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    assert.match(answer.body, /^flightdeck_reconcile_total\{controller="mysqluser",result="success"\} 1$/m);
    assert.match(answer.body, /^# TYPE flightdeck_leader gauge$/m);
  });

  it('answers the probes with 200 ok, or 503 and a reason', async () => {
    assert.deepEqual(await call(server.port, '/healthz').then((a) => [a.status, a.body]), [200, 'ok']);
    assert.deepEqual(await call(server.port, '/readyz').then((a) => [a.status, a.body]), [200, 'ok']);
    ready = () => false;
    assert.deepEqual(await call(server.port, '/readyz').then((a) => [a.status, a.body]), [503, 'not ready']);
    healthy = () => {
      throw new Error('cache lost');
    };
    assert.deepEqual(await call(server.port, '/healthz').then((a) => [a.status, a.body]), [503, 'not healthy: check failed: cache lost']);
    healthy = () => true;
    ready = () => true;
  });

  it('answers HEAD without a body, other methods with 405 and unknown paths with 404', async () => {
    const head = await call(server.port, '/healthz', 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
    const post = await call(server.port, '/metrics', 'POST');
    assert.equal(post.status, 405);
    assert.equal(post.headers.allow, 'GET, HEAD');
    assert.equal((await call(server.port, '/')).status, 404);
    assert.equal((await call(server.port, '/metrics/extra')).status, 404);
    assert.equal((await call(server.port, '/readyz?verbose=1')).status, 200, 'the query string is ignored');
  });

  it('refuses to start on a port in use', async () => {
    await assert.rejects(
      startHttpServer({ host: '127.0.0.1', port: server.port, metrics, healthy, ready }),
      (error: NodeJS.ErrnoException) => error.code === 'EADDRINUSE',
    );
  });

  it('close resolves although a client keeps its connection open', async () => {
    const other = await startHttpServer({ host: '127.0.0.1', port: 0, metrics, healthy, ready });
    const agent = new Agent({ keepAlive: true });
    await new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: other.port, path: '/healthz', agent }, (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', reject);
      req.end();
    });
    await other.close();
    agent.destroy();
    await assert.rejects(call(other.port, '/healthz'), /ECONNREFUSED/);
  });
});
