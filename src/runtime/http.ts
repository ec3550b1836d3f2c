// The operator's HTTP endpoint for Prometheus and the kubelet: /metrics,
// /healthz (liveness) and /readyz (readiness). Plain node:http, because three
// fixed GET routes need no framework.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { OperatorMetrics } from './metrics.ts';
import { nodeHttp } from './node-http.ts';

export interface HttpServerOptions {
  /** Address to listen on, e.g. '0.0.0.0' in a pod, '127.0.0.1' in tests. */
  host: string;
  /** Port to listen on; 0 picks a free one (see the returned port). */
  port: number;
  metrics: OperatorMetrics;
  /**
   * Liveness: false makes /healthz answer 503 and the kubelet restart the
   * container, so return false only for states a restart fixes.
   */
  healthy: () => boolean;
  /** Readiness: false makes /readyz answer 503, taking the pod out of Service endpoints. */
  ready: () => boolean;
}

export interface HttpServer {
  /** The port actually listened on. */
  readonly port: number;
  /** Stops accepting connections and resolves once open requests have been answered. */
  close(): Promise<void>;
}

/**
 * Listens on `host:port` and resolves once it accepts connections; rejects
 * when it cannot listen (port in use, address not local).
 *
 * GET (or HEAD) /metrics answers the registry in Prometheus text format;
 * /healthz and /readyz answer 200 "ok", or 503 with a one-line reason when the
 * check returns false or throws. Other methods on those paths get 405, other
 * paths 404.
 */
export function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const server = nodeHttp.createServer((request, response) => {
    handle(options, request, response).catch((error: unknown) => {
      // Only reached if answering itself failed (e.g. the metrics collection
      // threw); the client gets a 500 rather than a hung request.
      const message = error instanceof Error ? error.message : 'unknown error';
      if (!response.headersSent) reply(response, 500, `internal error: ${message}`);
      else response.destroy();
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      const { port } = server.address() as AddressInfo;
      resolve({
        port,
        close: () =>
          new Promise<void>((done, fail) => {
            server.close((error) => {
              if (error === undefined) done();
              else fail(error);
            });
            // Prometheus keeps connections alive; without this close() would
            // wait for the client to hang up.
            server.closeIdleConnections();
          }),
      });
    });
  });
}

async function handle(options: HttpServerOptions, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const path = new URL(request.url ?? '/', 'http://localhost').pathname;
  const route = routes.get(path);
  if (route === undefined) {
    reply(response, 404, 'not found');
    return;
  }
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('Allow', 'GET, HEAD');
    reply(response, 405, 'method not allowed');
    return;
  }
  await route(options, response);
}

type Route = (options: HttpServerOptions, response: ServerResponse) => Promise<void>;

const routes: ReadonlyMap<string, Route> = new Map<string, Route>([
  [
    '/metrics',
    async (options, response) => {
      const text = await options.metrics.registry.metrics();
      reply(response, 200, text, options.metrics.registry.contentType);
    },
  ],
  [
    '/healthz',
    (options, response) => {
      probe(response, options.healthy, 'not healthy');
      return Promise.resolve();
    },
  ],
  [
    '/readyz',
    (options, response) => {
      probe(response, options.ready, 'not ready');
      return Promise.resolve();
    },
  ],
]);

function probe(response: ServerResponse, check: () => boolean, failure: string): void {
  let ok: boolean;
  try {
    ok = check();
  } catch (error) {
    reply(response, 503, `${failure}: check failed: ${error instanceof Error ? error.message : 'unknown error'}`);
    return;
  }
  if (ok) reply(response, 200, 'ok');
  else reply(response, 503, failure);
}

function reply(response: ServerResponse, status: number, body: string, contentType = 'text/plain; charset=utf-8'): void {
  response.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
  // HEAD gets the headers only; node:http drops the body for it.
  response.end(body);
}
