// HTTP to the API server, as plain JSON, on node:https with keep-alive
// connection pools. One KubeTransport serves a whole process (the informers,
// the controllers' client, the event recorder, the leader elector): one TLS
// context, one set of pools.
//
// Not client-node: importing it costs about 100 MB of memory, its typed APIs
// convert known kinds through its ObjectSerializer (timestamps become Date
// objects, unknown fields of custom resources are dropped), and its Watch
// closes any stream that is quiet for 30 s. The runtime works with plain
// objects as the API server sends them and supervises its watches itself;
// kubeconfig.ts finds the server and the credentials.
import type { Agent as HttpAgent, IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { KubeAccess, KubeCredentials } from './kube-access.ts';
import { nodeHttp } from './node-http.ts';

/** The body of an API server error (meta/v1 Status). */
export interface KubeStatus {
  kind?: string;
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: { name?: string; kind?: string; causes?: { reason?: string; message?: string; field?: string }[] };
}

/** An API server answer outside 2xx; `statusCode` is the HTTP status, `reason` the Status reason (NotFound, Conflict, …). */
export class KubeApiError extends Error {
  readonly statusCode: number;
  readonly reason: string | undefined;
  readonly status: KubeStatus | undefined;

  constructor(what: string, statusCode: number, status: KubeStatus | undefined) {
    const detail = status?.message ?? status?.reason ?? 'no details';
    super(`${what}: HTTP ${statusCode}${status?.reason === undefined ? '' : ` ${status.reason}`}: ${detail}`);
    this.name = 'KubeApiError';
    this.statusCode = statusCode;
    this.reason = status?.reason;
    this.status = status;
  }
}

/**
 * The HTTP status code of a failed API call: from a KubeApiError, from any
 * error object with a numeric HTTP-range `statusCode` or `code`, or from a
 * watch ERROR event's Status object. Undefined for network errors (whose
 * `code` is a string such as ECONNREFUSED) and anything else that carries no
 * status.
 */
export function statusCodeOf(error: unknown): number | undefined {
  if (error instanceof KubeApiError) return error.statusCode;
  if (typeof error !== 'object' || error === null) return undefined;
  for (const key of ['statusCode', 'code'] as const) {
    if (key in error) {
      const value = (error as Record<typeof key, unknown>)[key];
      if (typeof value === 'number' && Number.isInteger(value) && value >= 100 && value < 600) return value;
    }
  }
  return undefined;
}

export type QueryValue = string | number | boolean | undefined;

export interface KubeRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path below the server URL, already escaped: /api/v1/namespaces/x/secrets/y */
  path: string;
  query?: Record<string, QueryValue>;
  /** Sent as JSON (which is also valid YAML for server-side apply). */
  body?: unknown;
  /** Content-Type of the body; application/json when absent. */
  contentType?: string;
  signal?: AbortSignal;
  /** The connection pool the request is sent on; default 'requests' for json(), 'watches' for stream(). See KubeTransport. */
  pool?: ConnectionPool;
}

/**
 * The transport's connection pools, kept apart so that one kind of traffic
 * cannot starve another:
 *
 * - 'requests': ordinary requests, at most maxSockets connections at once
 *   (further requests wait for a free one);
 * - 'watches': long-lived watch streams, one connection each and no limit:
 *   their number is bounded by the informers the code creates, and counted
 *   against the requests' limit they would hold its connections for minutes;
 * - 'leader-election': the lease's renewals, on their own connection, so that
 *   a burst of reconciles filling the requests' pool can never delay a renewal
 *   past the renew deadline and cost the leadership.
 */
export type ConnectionPool = 'requests' | 'watches' | 'leader-election';

export interface KubeTransportOptions {
  /**
   * Most connections of the 'requests' pool open at once; further requests
   * wait for one to become free. Watches and the lease have pools of their
   * own (see ConnectionPool). Default 64: more than the API server's default
   * client-side rate would need, few enough not to look like a flood.
   */
  maxSockets?: number;
  /**
   * A kept-alive connection unused for this long is closed. Default 30 s:
   * below the API server's own idle timeout (90 s) and common load balancers'
   * (60 s), so that a request rarely meets a connection the other side is
   * closing (and when it does, it is sent again; see json()).
   */
  idleSocketTimeoutMs?: number;
}

const userAgent = 'flightdeck-operator';

/**
 * Sends requests to one API server. Connections are kept alive and reused
 * (no TLS handshake per request). Credentials are asked from the KubeAccess
 * for every request, so rotated tokens and renewed exec-plugin credentials
 * take effect at once; after a 401 answer the access is told to drop cached
 * credentials.
 */
export class KubeTransport {
  readonly #access: KubeAccess;
  readonly #agents: Readonly<Record<ConnectionPool, HttpAgent>>;
  readonly #secure: boolean;
  /** The TLS context of the last client certificate (or none), reused for every new connection. */
  #tlsContext: { certificate: KubeCredentials['clientCertificate']; context: SecureContext } | undefined;

  constructor(access: KubeAccess, options: KubeTransportOptions = {}) {
    this.#access = access;
    this.#secure = new URL(access.server).protocol === 'https:';
    const idleTimeout = options.idleSocketTimeoutMs ?? 30_000;
    const agent = (maxSockets: number): HttpAgent => {
      const agentOptions = {
        keepAlive: true,
        maxSockets,
        // As many idle connections kept as may be open: with fewer, a burst of
        // requests closes connections as it ends and opens new ones (each a TLS
        // handshake) as the next begins. (For an unlimited pool, Node's own
        // default of 256 idle ones.)
        maxFreeSockets: Number.isFinite(maxSockets) ? maxSockets : 256,
        // For the agent this closes free (idle) connections only; a quiet watch is not affected.
        timeout: idleTimeout,
      };
      return this.#secure ? new HttpsAgent(agentOptions) : new nodeHttp.Agent(agentOptions);
    };
    this.#agents = {
      requests: agent(options.maxSockets ?? 64),
      watches: agent(Infinity),
      // Renewals are sequential; a second connection serves the release while a renewal is cut off.
      'leader-election': agent(2),
    };
  }

  /** The access this transport sends requests with. */
  get access(): KubeAccess {
    return this.#access;
  }

  /** Connections open now per pool (in use and idle): for tests and diagnostics. */
  openConnections(): Record<ConnectionPool, number> {
    const count = (agent: HttpAgent): number =>
      [...Object.values(agent.sockets), ...Object.values(agent.freeSockets)].reduce((sum, sockets) => sum + (sockets?.length ?? 0), 0);
    return { requests: count(this.#agents.requests), watches: count(this.#agents.watches), 'leader-election': count(this.#agents['leader-election']) };
  }

  /** Closes every connection, idle or in use, of every pool. For tests and short-lived tools; an operator keeps its transport. */
  destroy(): void {
    for (const agent of Object.values(this.#agents)) agent.destroy();
  }

  /**
   * Sends `request` and returns the parsed JSON body of a 2xx answer (undefined
   * when empty). Throws KubeApiError for any other status, and an Error whose
   * message names the request (with the network error as `cause`) when the
   * server cannot be reached or the connection breaks. When the request's
   * signal is aborted it rejects with the signal's reason.
   *
   * A request that fails because the kept-alive connection it was sent on had
   * been closed by the server (ECONNRESET/EPIPE on a reused connection) is
   * sent once more on a new connection, whatever its method: the server had
   * not read it.
   */
  async json<T>(request: KubeRequest): Promise<T> {
    const response = await this.#send(request);
    const text = await this.#readBody(request, response);
    const status = response.statusCode ?? 0;
    if (status < 200 || status > 299) throw new KubeApiError(describe(request), status, parseStatus(text));
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  /**
   * Sends `request` and returns the body of a 2xx answer as a stream (for
   * watches); errors as for `json`. Aborting `request.signal` ends the stream
   * with the signal's reason as its error and closes the connection.
   */
  async stream(request: KubeRequest): Promise<ReadableStream<Uint8Array>> {
    const response = await this.#send({ ...request, pool: request.pool ?? 'watches' });
    const status = response.statusCode ?? 0;
    if (status < 200 || status > 299) {
      throw new KubeApiError(describe(request), status, parseStatus(await this.#readBody(request, response)));
    }
    return Readable.toWeb(response) as ReadableStream<Uint8Array>;
  }

  /** Sends the request (twice at most, see json) and resolves with the answer's head; the body is still to be read. */
  async #send(request: KubeRequest): Promise<IncomingMessage> {
    request.signal?.throwIfAborted();
    let credentials: KubeCredentials;
    try {
      credentials = await this.#access.credentials();
    } catch (error) {
      throw new Error(`${describe(request)}: no credentials: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    const url = new URL(this.#access.server + request.path);
    for (const [key, value] of Object.entries(request.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const body = request.body === undefined ? undefined : JSON.stringify(request.body);
    const headers: OutgoingHttpHeaders = { Accept: 'application/json', 'User-Agent': userAgent };
    if (credentials.token !== undefined) headers.Authorization = `Bearer ${credentials.token}`;
    if (body !== undefined) {
      headers['Content-Type'] = request.contentType ?? 'application/json';
      headers['Content-Length'] = Buffer.byteLength(body);
    }
    for (let attempt = 1; ; attempt++) {
      try {
        const response = await this.#exchange(url, request, headers, body, credentials, attempt === 1);
        if (response.statusCode === 401) this.#access.invalidateCredentials();
        return response;
      } catch (error) {
        if (request.signal?.aborted === true) throw request.signal.reason;
        if (error instanceof StaleConnection) continue;
        throw new Error(`${describe(request)}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      }
    }
  }

  /**
   * One HTTP exchange up to the answer's head. The request's signal stays
   * attached until the answer's body has been read or the connection closed.
   * With `mayRetry`, a reused connection the server had closed is reported as
   * StaleConnection.
   */
  #exchange(
    url: URL,
    request: KubeRequest,
    headers: OutgoingHttpHeaders,
    body: string | undefined,
    credentials: KubeCredentials,
    mayRetry: boolean,
  ): Promise<IncomingMessage> {
    const access = this.#access;
    const tls = this.#secure
      ? {
          // ca, cert and key also name the agent's connection pool, so a renewed client certificate gets new connections.
          ca: access.caPem,
          rejectUnauthorized: !access.insecureSkipTlsVerify,
          servername: access.tlsServerName,
          cert: credentials.clientCertificate?.certPem,
          key: credentials.clientCertificate?.keyPem,
          secureContext: this.#secureContext(credentials),
        }
      : {};
    const send = this.#secure ? httpsRequest : nodeHttp.request;
    return new Promise((resolve, reject) => {
      const signal = request.signal;
      // Aborted while credentials were being fetched: an abort event will not come again.
      if (signal?.aborted === true) {
        reject(signal.reason as Error);
        return;
      }
      const req = send(url, { method: request.method, headers, agent: this.#agents[request.pool ?? 'requests'], ...tls });
      let response: IncomingMessage | undefined;
      const onAbort = (): void => {
        const reason = signal?.reason instanceof Error ? signal.reason : new Error(String(signal?.reason));
        // The answer's body (a watch stream) ends with the reason, not with a bare "aborted".
        response?.destroy(reason);
        req.destroy(reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      req.once('close', () => {
        signal?.removeEventListener('abort', onAbort);
      });
      req.once('response', (answer) => {
        response = answer;
        resolve(answer);
      });
      req.once('error', (error) => {
        const code = (error as NodeJS.ErrnoException).code;
        reject(mayRetry && req.reusedSocket && (code === 'ECONNRESET' || code === 'EPIPE') ? new StaleConnection(error) : error);
      });
      req.end(body);
    });
  }

  /**
   * Without a context of its own, every new connection parses the CA bundle
   * and the client key again (a millisecond or more of CPU each).
   */
  #secureContext(credentials: KubeCredentials): SecureContext {
    const certificate = credentials.clientCertificate;
    const cached = this.#tlsContext;
    if (cached !== undefined && cached.certificate?.certPem === certificate?.certPem && cached.certificate?.keyPem === certificate?.keyPem) {
      return cached.context;
    }
    const context = createSecureContext({ ca: this.#access.caPem, cert: certificate?.certPem, key: certificate?.keyPem });
    this.#tlsContext = { certificate, context };
    return context;
  }

  /** The whole body as text; a connection that breaks meanwhile is reported as in json(). */
  async #readBody(request: KubeRequest, response: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of response) chunks.push(chunk as Buffer);
    } catch (error) {
      if (request.signal?.aborted === true) throw request.signal.reason;
      throw new Error(`${describe(request)}: reading the answer failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    return Buffer.concat(chunks).toString('utf8');
  }
}

/** The server closed a kept-alive connection just as a request was sent on it: safe to send again. */
class StaleConnection extends Error {
  constructor(cause: Error) {
    super(cause.message, { cause });
    this.name = 'StaleConnection';
  }
}

function describe(request: KubeRequest): string {
  return `${request.method} ${request.path}`;
}

function parseStatus(text: string): KubeStatus | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null ? parsed : undefined;
  } catch {
    // Not JSON (a proxy's HTML page, an empty body): the status code says enough.
    return text === '' ? undefined : { message: text.slice(0, 200) };
  }
}

/** The URL path of a resource collection: /api/v1[/namespaces/ns]/plural or /apis/group/version[/namespaces/ns]/plural. */
export function collectionPath(apiVersion: string, plural: string, namespace?: string): string {
  const root = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  const scope = namespace === undefined ? '' : `/namespaces/${encodeURIComponent(namespace)}`;
  return `${root}${scope}/${plural}`;
}

/**
 * The transport a client uses: `shared` when given (the process's one
 * transport, which must serve the same `access`), else one of its own — for
 * tests and tools that build a single client.
 */
export function transportFor(access: KubeAccess, shared: KubeTransport | undefined): KubeTransport {
  if (shared === undefined) return new KubeTransport(access);
  if (shared.access !== access) throw new Error(`the shared transport serves ${shared.access.describe()}, not ${access.describe()}`);
  return shared;
}
