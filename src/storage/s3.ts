// A minimal S3 client: what the operator needs to list, read and delete
// backups (and what tests need to write them), against any S3-compatible
// store, with path-style addressing (bucket in the path, as every
// S3-compatible server accepts; virtual hosts need DNS per bucket).
//
// Requests are signed with Signature V4 (sigv4.ts) and sent on node:http(s)
// with a keep-alive connection pool, like the API server transport
// (src/runtime/kube-request.ts): a request whose reused connection the server
// had closed is sent again on a new one; errors name the operation and object.
// Not the AWS SDK: tens of megabytes of dependencies for a handful of calls.
import { createHash } from 'node:crypto';
import type { Agent as HttpAgent, IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { nodeHttp } from '../runtime/node-http.ts';
import { describeTarget, errorFromAnswer, S3Error } from './s3-error.ts';
import { emptyPayloadHash, sha256Hex, signRequest, unsignedPayload, uriEncode, type SigningCredentials } from './sigv4.ts';
import { validateBucketName, validateObjectKey } from './names.ts';
import { child, childrenNamed, childText, escapeXml, parseXml } from './xml.ts';

export { S3Error } from './s3-error.ts';

export interface S3ClientOptions {
  /** `https://s3.example.com` or `http://10.0.0.1:8333`; a path (`https://host/base`) is kept before the bucket. */
  readonly endpoint: string;
  /** The region requests are signed for; default us-east-1. */
  readonly region?: string;
  readonly credentials: SigningCredentials;
  /** PEM certificates trusted for an https endpoint instead of the system's. */
  readonly caPem?: string;
  /** Accept any certificate of an https endpoint. For test stores only. */
  readonly insecureSkipVerify?: boolean;
  /** Most connections open at once; further requests wait. Default 16. */
  readonly maxSockets?: number;
  /** A request whose connection is silent this long fails. Default 60 s. */
  readonly idleTimeoutMs?: number;
  /** The clock requests are signed with (tests). */
  readonly now?: () => Date;
}

export interface ObjectInfo {
  readonly key: string;
  readonly size: number;
  /** As the server sent it, quotes removed. For a single-part upload, the MD5 of the content in hex. */
  readonly etag: string;
  readonly lastModified: Date;
}

export interface ObjectHead extends ObjectInfo {
  readonly contentType: string | undefined;
}

export interface ListObjectsOptions {
  readonly prefix?: string;
  /** Groups keys by the part after `prefix` up to this string into commonPrefixes ("directories"). */
  readonly delimiter?: string;
  /** From the previous page's nextContinuationToken. */
  readonly continuationToken?: string;
  readonly startAfter?: string;
  /** At most 1000 (the server's limit too). */
  readonly maxKeys?: number;
  readonly signal?: AbortSignal;
}

export interface ListPage {
  readonly objects: ObjectInfo[];
  readonly commonPrefixes: string[];
  /** Set when more keys follow; pass it as continuationToken. */
  readonly nextContinuationToken: string | undefined;
}

export interface ObjectStream {
  readonly body: Readable;
  /** Bytes in this answer (of the range when one was asked). */
  readonly contentLength: number | undefined;
  readonly etag: string | undefined;
}

export interface RequestOptions {
  readonly signal?: AbortSignal;
}

/** A multipart upload not yet completed or aborted. */
export interface MultipartUploadInfo {
  readonly key: string;
  readonly uploadId: string;
  readonly initiated: Date;
}

/** One part of a multipart upload, as completeMultipartUpload needs it. */
export interface UploadedPart {
  readonly partNumber: number;
  readonly etag: string;
}

interface S3Request {
  readonly operation: string;
  readonly method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE';
  readonly bucket?: string;
  readonly key?: string;
  readonly query?: Readonly<Record<string, string | undefined>>;
  readonly headers?: Readonly<Record<string, string>>;
  /** A body known in full is hashed and signed, and can be sent again; a stream is sent unsigned, once. */
  readonly body?: Uint8Array | Readable;
  /** Required with a stream body. */
  readonly contentLength?: number;
  readonly signal?: AbortSignal | undefined;
}

const maxDeleteBatch = 1000;
/** Attempts of a request with a body known in full (none or a buffer) that the server answered with 500/502/503/504. */
const serverErrorAttempts = 3;

/**
 * A client of one S3 endpoint with one set of credentials. Every method
 * throws S3Error for an answer outside 2xx (with S3's code: NoSuchBucket,
 * NoSuchKey, AccessDenied, SignatureDoesNotMatch, …), and an Error naming the
 * operation (network error as `cause`) when the endpoint cannot be reached.
 * Bucket names and keys are checked before anything is sent.
 */
export class S3Client {
  readonly #endpoint: URL;
  readonly #basePath: string;
  readonly #region: string;
  readonly #credentials: SigningCredentials;
  readonly #agent: HttpAgent;
  readonly #secure: boolean;
  readonly #idleTimeoutMs: number;
  readonly #now: () => Date;

  constructor(options: S3ClientOptions) {
    const endpoint = new URL(options.endpoint);
    if (endpoint.protocol !== 'http:' && endpoint.protocol !== 'https:') throw new Error(`S3 endpoint ${options.endpoint}: only http and https are supported`);
    if (endpoint.username !== '' || endpoint.password !== '' || endpoint.search !== '' || endpoint.hash !== '') {
      throw new Error(`S3 endpoint ${endpoint.origin}: give scheme, host, port and path only (credentials belong in the credentials option)`);
    }
    if (options.credentials.accessKeyId === '' || options.credentials.secretAccessKey === '') throw new Error(`S3 endpoint ${endpoint.origin}: the access key id and the secret key must not be empty`);
    this.#endpoint = endpoint;
    this.#basePath = endpoint.pathname.replace(/\/+$/, '');
    this.#region = options.region ?? 'us-east-1';
    this.#credentials = options.credentials;
    this.#secure = endpoint.protocol === 'https:';
    this.#idleTimeoutMs = options.idleTimeoutMs ?? 60_000;
    this.#now = options.now ?? ((): Date => new Date());
    const maxSockets = options.maxSockets ?? 16;
    const agentOptions = { keepAlive: true, maxSockets, maxFreeSockets: maxSockets, timeout: 30_000 };
    this.#agent = this.#secure
      ? new HttpsAgent({ ...agentOptions, ca: options.caPem, rejectUnauthorized: options.insecureSkipVerify !== true })
      : new nodeHttp.Agent(agentOptions);
  }

  /** scheme://host[:port][/base] of the store, for messages. */
  get endpoint(): string {
    return `${this.#endpoint.origin}${this.#basePath}`;
  }

  /** Closes every connection. A client used afterwards opens new ones. */
  close(): void {
    this.#agent.destroy();
  }

  /** Creates a bucket; one that exists and is ours already is fine. */
  async createBucket(bucket: string, options: RequestOptions = {}): Promise<void> {
    // us-east-1 is the default location and must not be named; other regions must be.
    const body = this.#region === 'us-east-1'
      ? undefined
      : Buffer.from(`<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>${escapeXml(this.#region)}</LocationConstraint></CreateBucketConfiguration>`);
    try {
      await this.#consume(await this.#send({ operation: 'CreateBucket', method: 'PUT', bucket, body, signal: options.signal }));
    } catch (error) {
      if (error instanceof S3Error && error.code === 'BucketAlreadyOwnedByYou') return;
      throw error;
    }
  }

  /** Deletes an empty bucket (S3 refuses one with objects: BucketNotEmpty). */
  async deleteBucket(bucket: string, options: RequestOptions = {}): Promise<void> {
    await this.#consume(await this.#send({ operation: 'DeleteBucket', method: 'DELETE', bucket, signal: options.signal }));
  }

  /** Whether the bucket exists and these credentials may use it; false for 404, S3Error for 403 and others. */
  async bucketExists(bucket: string, options: RequestOptions = {}): Promise<boolean> {
    try {
      await this.#consume(await this.#send({ operation: 'HeadBucket', method: 'HEAD', bucket, signal: options.signal }));
      return true;
    } catch (error) {
      if (error instanceof S3Error && error.statusCode === 404) return false;
      throw error;
    }
  }

  /** Stores a body known in full (manifests, test data); its SHA-256 is signed, so the server verifies it arrived intact. */
  async putObject(bucket: string, key: string, body: string | Uint8Array, options: RequestOptions & { contentType?: string } = {}): Promise<{ etag: string }> {
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    const headers = { 'content-type': options.contentType ?? 'application/octet-stream', 'content-md5': md5Base64(bytes) };
    const answer = await this.#send({ operation: 'PutObject', method: 'PUT', bucket, key, body: bytes, headers, signal: options.signal });
    await this.#consume(answer);
    return { etag: unquote(header(answer, 'etag') ?? '') };
  }

  /**
   * Stores a stream of known length in one request, sent as UNSIGNED-PAYLOAD
   * (the hash is not known before the end). Not retried. S3 accepts up to 5 GiB
   * this way; larger or unknown sizes go through uploadStream.
   */
  async putObjectStream(bucket: string, key: string, body: Readable, options: RequestOptions & { contentLength: number; contentType?: string }): Promise<{ etag: string }> {
    const headers = { 'content-type': options.contentType ?? 'application/octet-stream' };
    const answer = await this.#send({ operation: 'PutObject', method: 'PUT', bucket, key, body, contentLength: options.contentLength, headers, signal: options.signal });
    await this.#consume(answer);
    return { etag: unquote(header(answer, 'etag') ?? '') };
  }

  /** The whole object in memory; for manifests and tests, not for backups themselves (see getObjectStream). */
  async getObject(bucket: string, key: string, options: RequestOptions = {}): Promise<Buffer> {
    const answer = await this.#send({ operation: 'GetObject', method: 'GET', bucket, key, signal: options.signal });
    return readAll(answer, 'GetObject', bucket, key);
  }

  /**
   * The object as a stream, from `range.start` to `range.end` inclusive when
   * a range is given. The caller must read or destroy `body`, or the
   * connection stays taken.
   */
  async getObjectStream(bucket: string, key: string, options: RequestOptions & { range?: { start: number; end?: number } } = {}): Promise<ObjectStream> {
    const range = options.range;
    const headers: Record<string, string> = range === undefined ? {} : { range: `bytes=${range.start}-${range.end ?? ''}` };
    const answer = await this.#send({ operation: 'GetObject', method: 'GET', bucket, key, headers, signal: options.signal });
    const length = header(answer, 'content-length');
    const etag = header(answer, 'etag');
    return { body: answer, contentLength: length === undefined ? undefined : Number(length), etag: etag === undefined ? undefined : unquote(etag) };
  }

  /** Size, ETag and time of an object; undefined when there is none (404). */
  async headObject(bucket: string, key: string, options: RequestOptions = {}): Promise<ObjectHead | undefined> {
    let answer: IncomingMessage;
    try {
      answer = await this.#send({ operation: 'HeadObject', method: 'HEAD', bucket, key, signal: options.signal });
    } catch (error) {
      if (error instanceof S3Error && error.statusCode === 404) return undefined;
      throw error;
    }
    await this.#consume(answer);
    return {
      key,
      size: Number(header(answer, 'content-length') ?? 0),
      etag: unquote(header(answer, 'etag') ?? ''),
      lastModified: new Date(header(answer, 'last-modified') ?? 0),
      contentType: header(answer, 'content-type'),
    };
  }

  /** One page (at most 1000 keys) of the keys under `prefix`, in key order. */
  async listObjectsV2(bucket: string, options: ListObjectsOptions = {}): Promise<ListPage> {
    const query = {
      'list-type': '2',
      prefix: options.prefix,
      delimiter: options.delimiter,
      'continuation-token': options.continuationToken,
      'start-after': options.startAfter,
      'max-keys': options.maxKeys === undefined ? undefined : String(options.maxKeys),
    };
    const answer = await this.#send({ operation: 'ListObjectsV2', method: 'GET', bucket, query, signal: options.signal });
    const xml = (await readAll(answer, 'ListObjectsV2', bucket, undefined)).toString('utf8');
    return parseListPage(xml, bucket);
  }

  /** Every page of a listing, following continuation tokens. */
  async *listObjectsV2Pages(bucket: string, options: Omit<ListObjectsOptions, 'continuationToken'> = {}): AsyncGenerator<ListPage> {
    let continuationToken: string | undefined;
    do {
      const page = await this.listObjectsV2(bucket, { ...options, continuationToken });
      yield page;
      continuationToken = page.nextContinuationToken;
    } while (continuationToken !== undefined);
  }

  /** Every object under `prefix` (all pages), in key order. */
  async listAllObjects(bucket: string, options: { prefix?: string; signal?: AbortSignal } = {}): Promise<ObjectInfo[]> {
    const objects: ObjectInfo[] = [];
    for await (const page of this.listObjectsV2Pages(bucket, options)) objects.push(...page.objects);
    return objects;
  }

  /** Deletes one object; deleting one that does not exist is not an error (as in S3). */
  async deleteObject(bucket: string, key: string, options: RequestOptions = {}): Promise<void> {
    try {
      await this.#consume(await this.#send({ operation: 'DeleteObject', method: 'DELETE', bucket, key, signal: options.signal }));
    } catch (error) {
      // S3 answers 204 for a missing key; some compatible stores answer 404.
      if (error instanceof S3Error && error.code === 'NoSuchKey') return;
      throw error;
    }
  }

  /**
   * Deletes many objects, 1000 per request (S3's limit). Keys that do not
   * exist count as deleted. Throws one S3Error naming the keys the server
   * refused (with its code for the first) after trying every batch.
   */
  async deleteObjects(bucket: string, keys: readonly string[], options: RequestOptions = {}): Promise<void> {
    const failures: { key: string; code: string; message: string }[] = [];
    for (let start = 0; start < keys.length; start += maxDeleteBatch) {
      const batch = keys.slice(start, start + maxDeleteBatch);
      for (const key of batch) validateObjectKey(key);
      const body = Buffer.from(`<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Quiet>true</Quiet>${batch.map((key) => `<Object><Key>${escapeXml(key)}</Key></Object>`).join('')}</Delete>`, 'utf8');
      const answer = await this.#send({ operation: 'DeleteObjects', method: 'POST', bucket, query: { delete: '' }, body, headers: { 'content-md5': md5Base64(body), 'content-type': 'application/xml' }, signal: options.signal });
      const result = parseXml((await readAll(answer, 'DeleteObjects', bucket, undefined)).toString('utf8'));
      for (const error of childrenNamed(result, 'Error')) {
        const code = childText(error, 'Code') ?? 'unknown';
        if (code === 'NoSuchKey') continue;
        failures.push({ key: childText(error, 'Key') ?? '?', code, message: childText(error, 'Message') ?? '' });
      }
    }
    const first = failures[0];
    if (first !== undefined) {
      const named = failures.slice(0, 5).map((f) => f.key).join(', ');
      throw new S3Error({ operation: 'DeleteObjects', bucket, statusCode: 200, code: first.code, message: `${failures.length} key(s) not deleted (${named}${failures.length > 5 ? ', …' : ''}): ${first.message}` });
    }
  }

  /** Starts a multipart upload; returns its upload id. */
  async createMultipartUpload(bucket: string, key: string, options: RequestOptions & { contentType?: string } = {}): Promise<string> {
    const answer = await this.#send({ operation: 'CreateMultipartUpload', method: 'POST', bucket, key, query: { uploads: '' }, headers: { 'content-type': options.contentType ?? 'application/octet-stream' }, signal: options.signal });
    const result = parseXml((await readAll(answer, 'CreateMultipartUpload', bucket, key)).toString('utf8'));
    const uploadId = childText(result, 'UploadId');
    if (uploadId === undefined || uploadId === '') throw new Error(`S3 CreateMultipartUpload ${describeTarget(bucket, key)}: the answer has no UploadId`);
    return uploadId;
  }

  /** Uploads part `partNumber` (1 to 10000; every part but the last at least 5 MiB), signed and verified like putObject. */
  async uploadPart(bucket: string, key: string, uploadId: string, partNumber: number, body: Uint8Array, options: RequestOptions = {}): Promise<UploadedPart> {
    const answer = await this.#send({ operation: 'UploadPart', method: 'PUT', bucket, key, query: { partNumber: String(partNumber), uploadId }, body, headers: { 'content-md5': md5Base64(body) }, signal: options.signal });
    await this.#consume(answer);
    return { partNumber, etag: unquote(header(answer, 'etag') ?? '') };
  }

  /** Joins the parts into the object; until this succeeds, the object does not exist. */
  async completeMultipartUpload(bucket: string, key: string, uploadId: string, parts: readonly UploadedPart[], options: RequestOptions = {}): Promise<{ etag: string }> {
    const body = Buffer.from(`<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${parts.map((p) => `<Part><PartNumber>${p.partNumber}</PartNumber><ETag>"${escapeXml(p.etag)}"</ETag></Part>`).join('')}</CompleteMultipartUpload>`, 'utf8');
    const answer = await this.#send({ operation: 'CompleteMultipartUpload', method: 'POST', bucket, key, query: { uploadId }, body, headers: { 'content-type': 'application/xml' }, signal: options.signal });
    // S3 can answer 200 with an Error document when the join fails after the answer began.
    const result = parseXml((await readAll(answer, 'CompleteMultipartUpload', bucket, key)).toString('utf8'));
    if (result.name === 'Error') {
      throw new S3Error({ operation: 'CompleteMultipartUpload', bucket, key, statusCode: answer.statusCode ?? 200, code: childText(result, 'Code') ?? 'unknown', message: childText(result, 'Message') ?? '' });
    }
    return { etag: unquote(childText(result, 'ETag') ?? '') };
  }

  /** Abandons a multipart upload and frees its parts; one that is gone already is fine. */
  async abortMultipartUpload(bucket: string, key: string, uploadId: string, options: RequestOptions = {}): Promise<void> {
    try {
      await this.#consume(await this.#send({ operation: 'AbortMultipartUpload', method: 'DELETE', bucket, key, query: { uploadId }, signal: options.signal }));
    } catch (error) {
      if (error instanceof S3Error && error.code === 'NoSuchUpload') return;
      throw error;
    }
  }

  /**
   * Multipart uploads started under `prefix` and neither completed nor
   * aborted (all pages), in key order: what a writer killed mid-upload
   * leaves, invisible to listObjectsV2 but holding its parts' storage.
   */
  async listMultipartUploads(bucket: string, options: { prefix?: string; signal?: AbortSignal } = {}): Promise<MultipartUploadInfo[]> {
    const uploads: MultipartUploadInfo[] = [];
    let markers: { keyMarker: string; uploadIdMarker: string } | undefined;
    do {
      const query = { uploads: '', prefix: options.prefix, 'key-marker': markers?.keyMarker, 'upload-id-marker': markers?.uploadIdMarker };
      const answer = await this.#send({ operation: 'ListMultipartUploads', method: 'GET', bucket, query, signal: options.signal });
      const page = parseMultipartUploadsPage((await readAll(answer, 'ListMultipartUploads', bucket, undefined)).toString('utf8'), bucket);
      uploads.push(...page.uploads);
      markers = page.next;
    } while (markers !== undefined);
    return uploads;
  }

  /**
   * Sends a request and resolves with the answer's head when its status is
   * 2xx (the body still to be read); otherwise reads the error body and throws
   * S3Error. Retries a request with a body known in full on a stale kept-alive
   * connection and on 500/502/503/504.
   */
  async #send(request: S3Request): Promise<IncomingMessage> {
    request.signal?.throwIfAborted();
    if (request.bucket !== undefined) validateBucketName(request.bucket);
    if (request.key !== undefined) validateObjectKey(request.key);
    const resent = !isStream(request.body);
    for (let attempt = 1; ; attempt++) {
      let answer: IncomingMessage;
      try {
        answer = await this.#exchange(request, resent && attempt === 1);
      } catch (error) {
        if (request.signal?.aborted === true) throw request.signal.reason;
        if (error instanceof StaleConnection) continue;
        throw new Error(`S3 ${request.operation} ${describeTarget(request.bucket, request.key)} at ${this.endpoint}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      }
      const status = answer.statusCode ?? 0;
      if (status >= 200 && status < 300) return answer;
      const body = (await readAll(answer, request.operation, request.bucket, request.key, true)).toString('utf8');
      const error = errorFromAnswer(request.operation, request.bucket, request.key, status, body);
      if (resent && [500, 502, 503, 504].includes(status) && attempt < serverErrorAttempts) {
        await sleep(200 * 2 ** (attempt - 1), undefined, { signal: request.signal });
        continue;
      }
      throw error;
    }
  }

  /** One HTTP exchange up to the answer's head. */
  #exchange(request: S3Request, mayRetry: boolean): Promise<IncomingMessage> {
    const path = `${this.#basePath}/${request.bucket === undefined ? '' : uriEncode(request.bucket)}${request.key === undefined ? '' : `/${uriEncode(request.key, true)}`}`;
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries(request.query ?? {})) if (value !== undefined) query.set(name, value);
    const body = request.body;
    const streamed = isStream(body);
    const payloadHash = streamed ? unsignedPayload : body === undefined ? emptyPayloadHash : sha256Hex(body);
    const contentLength = streamed ? request.contentLength : body?.byteLength;
    if (streamed && contentLength === undefined) throw new Error(`S3 ${request.operation}: a stream body needs its length`);
    const toSign: Record<string, string> = { ...request.headers };
    if (contentLength !== undefined) toSign['content-length'] = String(contentLength);
    const headers: OutgoingHttpHeaders = signRequest({
      method: request.method,
      host: this.#endpoint.host,
      path,
      query,
      headers: toSign,
      payloadHash,
      credentials: this.#credentials,
      region: this.#region,
      time: this.#now(),
    });
    headers['user-agent'] = 'flightdeck-operator';
    const queryText = query.toString();
    const send = this.#secure ? httpsRequest : nodeHttp.request;
    return new Promise((resolve, reject) => {
      const req = send({
        protocol: this.#endpoint.protocol,
        hostname: this.#endpoint.hostname,
        port: this.#endpoint.port,
        method: request.method,
        path: queryText === '' ? path : `${path}?${queryText}`,
        headers,
        agent: this.#agent,
        signal: request.signal,
      });
      req.setTimeout(this.#idleTimeoutMs, () => {
        req.destroy(new Error(`no answer for ${this.#idleTimeoutMs} ms`));
      });
      req.once('response', resolve);
      req.once('error', (error) => {
        const code = (error as NodeJS.ErrnoException).code;
        reject(mayRetry && req.reusedSocket && (code === 'ECONNRESET' || code === 'EPIPE') ? new StaleConnection(error) : error);
      });
      if (streamed) {
        body.once('error', (error) => req.destroy(error));
        body.pipe(req);
      } else req.end(body);
    });
  }

  /** Reads and drops an answer's body, so its connection goes back to the pool. */
  async #consume(answer: IncomingMessage): Promise<void> {
    answer.resume();
    await finished(answer);
  }
}

/** The server closed a kept-alive connection just as a request was sent on it: safe to send again. */
class StaleConnection extends Error {
  constructor(cause: Error) {
    super(cause.message, { cause });
    this.name = 'StaleConnection';
  }
}

function isStream(body: S3Request['body']): body is Readable {
  return body !== undefined && !(body instanceof Uint8Array);
}

function header(answer: IncomingMessage, name: string): string | undefined {
  const value = answer.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

const unquote = (etag: string): string => etag.replace(/^"|"$/g, '');

const md5Base64 = (data: Uint8Array): string => createHash('md5').update(data).digest('base64');

/** Error bodies are short; a misbehaving server's endless one is cut. */
const maxErrorBody = 64 * 1024;

async function readAll(answer: IncomingMessage, operation: string, bucket: string | undefined, key: string | undefined, errorBody = false): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of answer) {
      chunks.push(chunk as Buffer);
      size += (chunk as Buffer).length;
      if (errorBody && size > maxErrorBody) {
        answer.destroy();
        break;
      }
    }
  } catch (error) {
    throw new Error(`S3 ${operation} ${describeTarget(bucket, key)}: reading the answer failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  return Buffer.concat(chunks);
}

/** A ListBucketResult (ListObjectsV2) document as a page. */
export function parseListPage(xml: string, bucket: string): ListPage {
  const result = parseXml(xml);
  if (result.name !== 'ListBucketResult') throw new Error(`S3 ListObjectsV2 ${bucket}: expected a ListBucketResult, got <${result.name}>`);
  const objects = childrenNamed(result, 'Contents').map((contents): ObjectInfo => ({
    key: childText(contents, 'Key') ?? '',
    size: Number(childText(contents, 'Size') ?? 0),
    etag: unquote(childText(contents, 'ETag') ?? ''),
    lastModified: new Date(childText(contents, 'LastModified') ?? 0),
  }));
  const commonPrefixes = childrenNamed(result, 'CommonPrefixes').map((p) => childText(p, 'Prefix') ?? '');
  const truncated = childText(result, 'IsTruncated') === 'true';
  const token = child(result, 'NextContinuationToken')?.text;
  if (truncated && (token === undefined || token === '')) throw new Error(`S3 ListObjectsV2 ${bucket}: a truncated page without NextContinuationToken`);
  return { objects, commonPrefixes, nextContinuationToken: truncated ? token : undefined };
}

/** A ListMultipartUploadsResult document: its uploads, and the markers of the next page when it is truncated. */
export function parseMultipartUploadsPage(xml: string, bucket: string): { uploads: MultipartUploadInfo[]; next: { keyMarker: string; uploadIdMarker: string } | undefined } {
  const result = parseXml(xml);
  if (result.name !== 'ListMultipartUploadsResult') throw new Error(`S3 ListMultipartUploads ${bucket}: expected a ListMultipartUploadsResult, got <${result.name}>`);
  const uploads = childrenNamed(result, 'Upload').map((upload): MultipartUploadInfo => ({
    key: childText(upload, 'Key') ?? '',
    uploadId: childText(upload, 'UploadId') ?? '',
    initiated: new Date(childText(upload, 'Initiated') ?? 0),
  }));
  if (childText(result, 'IsTruncated') !== 'true') return { uploads, next: undefined };
  const keyMarker = childText(result, 'NextKeyMarker') ?? '';
  const uploadIdMarker = childText(result, 'NextUploadIdMarker') ?? '';
  if (keyMarker === '') throw new Error(`S3 ListMultipartUploads ${bucket}: a truncated page without NextKeyMarker`);
  return { uploads, next: { keyMarker, uploadIdMarker } };
}
