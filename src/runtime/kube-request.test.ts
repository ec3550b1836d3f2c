import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { kubeAccess, type KubeCredentials } from './kube-access.ts';
import { KubeApiError, KubeTransport } from './kube-request.ts';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

type Handler = (req: IncomingMessage, res: ServerResponse, seen: Seen) => void;

/** An HTTP server on loopback that records what it was sent and answers with the current handler. */
class FakeApiServer {
  readonly seen: Seen[] = [];
  readonly sockets = new Set<Socket>();
  handler: Handler = (_req, res) => {
    res.end('{}');
  };
  readonly #server: Server;

  constructor() {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const seen = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() };
        this.seen.push(seen);
        this.handler(req, res, seen);
      });
    });
    this.#server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
    });
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    return (this.#server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.#server.close(resolve));
  }
}

function accessTo(port: number, credentials: () => Promise<KubeCredentials>, onInvalidate = () => undefined) {
  return kubeAccess({
    server: `http://127.0.0.1:${port}/`,
    source: 'test',
    credentials: { get: credentials, invalidate: onInvalidate },
  });
}

describe('KubeTransport', () => {
  const server = new FakeApiServer();
  let port = 0;
  before(async () => {
    port = await server.listen();
  });
  after(() => server.close());

  it('sends JSON with the bearer token and query, and parses the JSON answer', async () => {
    server.handler = (_req, res) => {
      res.setHeader('Content-Type', 'application/json');
      res.end('{"kind":"ConfigMap","data":{"a":"b"}}');
    };
    const transport = new KubeTransport(accessTo(port, () => Promise.resolve({ token: 'tok' })));
    const answer = await transport.json<{ kind: string }>({
      method: 'PATCH',
      path: '/api/v1/namespaces/x/configmaps/y',
      query: { fieldManager: 'fd', force: true, skipped: undefined },
      body: { data: { a: 'b' } },
      contentType: 'application/apply-patch+yaml',
    });
    assert.deepEqual(answer, { kind: 'ConfigMap', data: { a: 'b' } });
    const seen = server.seen.at(-1);
    assert.equal(seen?.method, 'PATCH');
    assert.equal(seen.url, '/api/v1/namespaces/x/configmaps/y?fieldManager=fd&force=true');
    assert.equal(seen.headers.authorization, 'Bearer tok');
    assert.equal(seen.headers['content-type'], 'application/apply-patch+yaml');
    assert.equal(seen.headers.accept, 'application/json');
    assert.equal(seen.body, '{"data":{"a":"b"}}');
  });

  it('turns an error answer into KubeApiError, and tells the access to drop its credentials after a 401', async () => {
    let invalidated = 0;
    const transport = new KubeTransport(
      accessTo(
        port,
        () => Promise.resolve({}),
        () => {
          invalidated++;
        },
      ),
    );
    server.handler = (_req, res) => {
      res.statusCode = 404;
      res.end('{"kind":"Status","reason":"NotFound","message":"configmaps \\"y\\" not found","code":404}');
    };
    await assert.rejects(transport.json({ method: 'GET', path: '/api/v1/namespaces/x/configmaps/y' }), (error: unknown) => {
      assert.ok(error instanceof KubeApiError);
      assert.equal(error.statusCode, 404);
      assert.equal(error.reason, 'NotFound');
      assert.equal(error.message, 'GET /api/v1/namespaces/x/configmaps/y: HTTP 404 NotFound: configmaps "y" not found');
      return true;
    });
    assert.equal(invalidated, 0);
    server.handler = (_req, res) => {
      res.statusCode = 401;
      res.end('Unauthorized');
    };
    await assert.rejects(transport.json({ method: 'GET', path: '/api' }), /GET \/api: HTTP 401: Unauthorized/);
    assert.equal(invalidated, 1);
  });

  it('names the request and keeps the cause when the server cannot be reached or credentials fail', async () => {
    const closed = new FakeApiServer();
    const closedPort = await closed.listen();
    await closed.close();
    const unreachable = new KubeTransport(accessTo(closedPort, () => Promise.resolve({})));
    await assert.rejects(unreachable.json({ method: 'GET', path: '/version' }), (error: Error) => {
      assert.equal(error.message, `GET /version: connect ECONNREFUSED 127.0.0.1:${closedPort}`);
      assert.equal((error.cause as NodeJS.ErrnoException).code, 'ECONNREFUSED');
      return true;
    });
    const failing = new KubeTransport(accessTo(port, () => Promise.reject(new Error('plugin exited with status 1'))));
    await assert.rejects(failing.json({ method: 'GET', path: '/version' }), /^Error: GET \/version: no credentials: plugin exited with status 1$/);
  });

  it('sends a request again on a new connection when the kept-alive one was closed by the server', async () => {
    const transport = new KubeTransport(accessTo(port, () => Promise.resolve({})));
    server.handler = (_req, res) => {
      res.end('{"n":1}');
    };
    await transport.json({ method: 'GET', path: '/first' });
    const before = server.sockets.size;
    // The next request arrives on the kept-alive connection, which the server then drops unanswered.
    let dropped = false;
    server.handler = (req, res) => {
      if (!dropped) {
        dropped = true;
        req.socket.destroy();
        return;
      }
      res.end('{"n":2}');
    };
    assert.deepEqual(await transport.json({ method: 'POST', path: '/second', body: {} }), { n: 2 });
    assert.equal(server.sockets.size, before + 1);
  });

  it('streams a watch line by line and ends it when the signal aborts', async () => {
    let closedByClient: Promise<void> = Promise.resolve();
    server.handler = (req, res) => {
      closedByClient = new Promise((resolve) => req.socket.once('close', () => {
        resolve();
      }));
      res.write('{"type":"ADDED"}\n');
    };
    const transport = new KubeTransport(accessTo(port, () => Promise.resolve({})));
    const abort = new AbortController();
    const stream = await transport.stream({ method: 'GET', path: '/api/v1/secrets', query: { watch: true }, signal: abort.signal });
    const reader = stream.getReader();
    const first = await reader.read();
    assert.equal(new TextDecoder().decode(first.value), '{"type":"ADDED"}\n');
    const reason = new Error('stop watching');
    abort.abort(reason);
    await assert.rejects(reader.read(), (error) => error === reason);
    await closedByClient;
  });

  it('keeps a watch that is quiet longer than idleSocketTimeoutMs, and closes the connection once idle that long', async () => {
    let watchSocket: Socket | undefined;
    server.handler = (req, res) => {
      watchSocket = req.socket;
      res.write('{"type":"ADDED"}\n');
      setTimeout(() => {
        res.end('{"type":"MODIFIED"}\n');
      }, 300);
    };
    const transport = new KubeTransport(accessTo(port, () => Promise.resolve({})), { idleSocketTimeoutMs: 100 });
    const stream = await transport.stream({ method: 'GET', path: '/watch' });
    let text = '';
    for await (const chunk of stream) text += new TextDecoder().decode(chunk);
    assert.equal(text, '{"type":"ADDED"}\n{"type":"MODIFIED"}\n');
    assert.equal(watchSocket?.destroyed, false, 'kept alive after the watch');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(watchSocket.destroyed, true, 'closed after 100 ms unused');
  });

  it('rejects with the abort reason while waiting for an answer', async () => {
    server.handler = () => undefined; // never answers
    const transport = new KubeTransport(accessTo(port, () => Promise.resolve({})));
    const reason = new Error('timed out');
    const pending = transport.json({ method: 'GET', path: '/slow', signal: AbortSignal.any([AbortSignal.timeout(50)]) });
    await assert.rejects(pending, (error: Error) => error.name === 'TimeoutError');
    await assert.rejects(transport.json({ method: 'GET', path: '/slow', signal: AbortSignal.abort(reason) }), (error) => error === reason);
  });

  it('sends nothing when the signal aborts while the credentials are being fetched', async () => {
    const abort = new AbortController();
    const reason = new Error('interrupted');
    const transport = new KubeTransport(
      accessTo(port, () => {
        abort.abort(reason);
        return Promise.resolve({});
      }),
    );
    const count = server.seen.length;
    await assert.rejects(transport.stream({ method: 'GET', path: '/watch', signal: abort.signal }), (error) => error === reason);
    assert.equal(server.seen.length, count);
  });

  it('keeps watches and the lease out of the requests pool: open watches never make a request wait', async () => {
    const open: ServerResponse[] = [];
    server.handler = (req, res) => {
      if (req.url?.startsWith('/watch') === true) {
        res.write('{"type":"BOOKMARK"}\n'); // and never ends
        open.push(res);
      } else {
        res.end('{"ok":true}');
      }
    };
    // One connection for ordinary requests, as a pool already full of them would leave.
    const transport = new KubeTransport(accessTo(port, () => Promise.resolve({})), { maxSockets: 1 });
    const abort = new AbortController();
    const watches = await Promise.all([1, 2, 3].map((i) => transport.stream({ method: 'GET', path: `/watch/${i}`, signal: abort.signal })));
    assert.equal(watches.length, 3);
    const answers = await Promise.all([
      transport.json<{ ok: boolean }>({ method: 'GET', path: '/a', signal: AbortSignal.timeout(2_000) }),
      transport.json<{ ok: boolean }>({ method: 'GET', path: '/b', signal: AbortSignal.timeout(2_000) }),
      transport.json<{ ok: boolean }>({ method: 'PUT', path: '/lease', pool: 'leader-election', signal: AbortSignal.timeout(2_000) }),
    ]);
    assert.deepEqual(answers, [{ ok: true }, { ok: true }, { ok: true }]);
    assert.deepEqual(transport.openConnections(), { requests: 1, watches: 3, 'leader-election': 1 });
    abort.abort(new Error('test over'));
    for (const res of open) res.end();
    transport.destroy();
  });
});
