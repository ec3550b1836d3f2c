// HTTP to the API server with a kubeconfig's credentials, as plain JSON.
//
// client-node's typed APIs convert known kinds through its ObjectSerializer
// (timestamps become Date objects, unknown fields of custom resources are
// dropped), and its Watch closes any stream that is quiet for 30 s. The
// runtime needs neither: it works with plain objects as the API server sends
// them and supervises its watches itself. So this module borrows only
// client-node's authentication (kubeconfig, in-cluster token, exec plugins)
// and its HTTP library, and keeps bodies as JSON.
import { HttpMethod, IsomorphicFetchHttpLibrary, RequestContext, type KubeConfig } from '@kubernetes/client-node';

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
 * The HTTP status code of a failed API call: from a KubeApiError, from
 * client-node's ApiException (`code`) and Watch errors (`statusCode`), or from a
 * watch ERROR event's Status object. Undefined for network errors and anything
 * else that carries no status.
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
}

type Dispatcher = ReturnType<RequestContext['getDispatcher']>;

/**
 * Sends requests to the API server of one kubeconfig. It keeps the connection
 * pool (dispatcher) of its first request for all later ones, so requests reuse
 * kept-alive connections instead of a TLS handshake each; credentials in
 * headers (tokens, which rotate) are still applied to every request.
 */
export class KubeTransport {
  readonly #kubeConfig: KubeConfig;
  readonly #http = new IsomorphicFetchHttpLibrary();
  #dispatcher: Dispatcher;

  constructor(kubeConfig: KubeConfig) {
    this.#kubeConfig = kubeConfig;
  }

  /**
   * Sends `request` and returns the parsed JSON body of a 2xx answer (undefined
   * when empty). Throws KubeApiError for any other status, and an Error whose
   * message names the request (with the network error as `cause`) when the
   * server cannot be reached.
   */
  async json<T>(request: KubeRequest): Promise<T> {
    const response = await this.#send(request);
    const text = await response.body.text();
    if (response.httpStatusCode < 200 || response.httpStatusCode > 299) {
      throw new KubeApiError(describe(request), response.httpStatusCode, parseStatus(text));
    }
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  /**
   * Sends `request` and returns the body of a 2xx answer as a stream (for
   * watches); errors as for `json`. Aborting `request.signal` ends the stream.
   */
  async stream(request: KubeRequest): Promise<ReadableStream<Uint8Array>> {
    const response = await this.#send(request);
    if (response.httpStatusCode < 200 || response.httpStatusCode > 299) {
      throw new KubeApiError(describe(request), response.httpStatusCode, parseStatus(await response.body.text()));
    }
    const body = response.body.stream();
    if (body === null) throw new Error(`${describe(request)}: the answer has no body`);
    return body;
  }

  async #send(request: KubeRequest) {
    const cluster = this.#kubeConfig.getCurrentCluster();
    if (cluster === null) throw new Error('the kubeconfig has no current cluster');
    const url = new URL(cluster.server.replace(/\/+$/, '') + request.path);
    for (const [key, value] of Object.entries(request.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const context = new RequestContext(url.toString(), HttpMethod[request.method]);
    await this.#kubeConfig.applySecurityAuthentication(context);
    if (this.#dispatcher === undefined) this.#dispatcher = context.getDispatcher();
    else context.setDispatcher(this.#dispatcher);
    context.setHeaderParam('Accept', 'application/json');
    if (request.body !== undefined) {
      context.setHeaderParam('Content-Type', request.contentType ?? 'application/json');
      context.setBody(JSON.stringify(request.body));
    }
    if (request.signal !== undefined) context.setSignal(request.signal);
    try {
      return await this.#http.send(context).toPromise();
    } catch (error) {
      if (request.signal?.aborted === true) throw error;
      throw new Error(`${describe(request)}: ${networkMessage(error)}`, { cause: error });
    }
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

/** undici reports "fetch failed" and hides the useful part (ECONNREFUSED, …) in `cause`. */
function networkMessage(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause: unknown = error.cause;
  return cause instanceof Error ? `${error.message}: ${cause.message}` : error.message;
}

/** The URL path of a resource collection: /api/v1[/namespaces/ns]/plural or /apis/group/version[/namespaces/ns]/plural. */
export function collectionPath(apiVersion: string, plural: string, namespace?: string): string {
  const root = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  const scope = namespace === undefined ? '' : `/namespaces/${encodeURIComponent(namespace)}`;
  return `${root}${scope}/${plural}`;
}
