// AWS Signature Version 4 for S3 requests (header-based), on node:crypto.
// Pure functions: the signer gets the method, URL, headers, payload hash,
// credentials and time, and returns the headers to send; the HTTP client
// (s3.ts) does the rest. Written here rather than taken from the AWS SDK (tens
// of megabytes of dependencies for four signing steps).
//
// The secret key only ever enters an HMAC; nothing returned or thrown here
// contains it.
import { createHash, createHmac } from 'node:crypto';

export interface SigningCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** A temporary credential's session token, sent as x-amz-security-token. */
  readonly sessionToken?: string;
}

/** The hash S3 is told for a body it should not verify (a stream whose hash is not known up front). */
export const unsignedPayload = 'UNSIGNED-PAYLOAD';

/** Lower-case hex SHA-256 of `data`; the payload hash of a body known in full. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The hash of an empty body (GET, HEAD, DELETE). */
export const emptyPayloadHash = sha256Hex('');

/** `20130524T000000Z`: the x-amz-date format. */
export function amzDate(time: Date): string {
  return time.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/**
 * URI-encodes as SigV4 asks: every byte except the unreserved characters
 * A-Z a-z 0-9 - . _ ~ as %XX with upper-case hex; '/' kept when `keepSlash`
 * (object keys in a path). encodeURIComponent leaves !'()* alone, which
 * SigV4 encodes.
 */
export function uriEncode(value: string, keepSlash = false): string {
  const encoded = encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return keepSlash ? encoded.replace(/%2F/g, '/') : encoded;
}

/** The canonical query string: each name and value encoded, sorted by encoded name (then value). */
export function canonicalQuery(params: URLSearchParams): string {
  const pairs = [...params].map(([name, value]) => [uriEncode(name), uriEncode(value)] as const);
  pairs.sort(([an, av], [bn, bv]) => (an < bn ? -1 : an > bn ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return pairs.map(([name, value]) => `${name}=${value}`).join('&');
}

/** Header names lower-cased and sorted; values trimmed with inner runs of spaces folded to one. */
function canonicalHeaders(headers: Readonly<Record<string, string>>): { text: string; signedHeaders: string } {
  const entries = Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value.trim().replace(/ +/g, ' ')] as const);
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    text: entries.map(([name, value]) => `${name}:${value}\n`).join(''),
    signedHeaders: entries.map(([name]) => name).join(';'),
  };
}

export interface CanonicalRequestInput {
  readonly method: string;
  /** The path as sent on the wire: already URI-encoded (S3 does not encode it twice). */
  readonly path: string;
  readonly query: URLSearchParams;
  /** Every header to sign, host and x-amz-* included. */
  readonly headers: Readonly<Record<string, string>>;
  readonly payloadHash: string;
}

/** The canonical request (step 1 of SigV4) and the signed header list. */
export function canonicalRequest(input: CanonicalRequestInput): { text: string; signedHeaders: string } {
  const headers = canonicalHeaders(input.headers);
  const text = [input.method, input.path === '' ? '/' : input.path, canonicalQuery(input.query), headers.text, headers.signedHeaders, input.payloadHash].join('\n');
  return { text, signedHeaders: headers.signedHeaders };
}

/** `<yyyymmdd>/<region>/<service>/aws4_request` */
export function credentialScope(time: Date, region: string, service: string): string {
  return `${amzDate(time).slice(0, 8)}/${region}/${service}/aws4_request`;
}

/** The string to sign (step 2). */
export function stringToSign(time: Date, scope: string, canonicalRequestText: string): string {
  return ['AWS4-HMAC-SHA256', amzDate(time), scope, sha256Hex(canonicalRequestText)].join('\n');
}

const hmac = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data, 'utf8').digest();

/** The signing key (step 3): HMACs of date, region, service and "aws4_request", keyed from the secret. */
export function signingKey(secretAccessKey: string, date: string, region: string, service: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, date), region), service), 'aws4_request');
}

export interface SignInput {
  readonly method: string;
  /** host[:port] as sent in the Host header. */
  readonly host: string;
  /**
   * The path as sent, already URI-encoded by the caller (uriEncode with
   * keepSlash). Not taken from a URL object: URL parsing resolves '.' and
   * '..' segments, which are legal in object keys.
   */
  readonly path: string;
  readonly query: URLSearchParams;
  /** Headers to send and sign besides host and the x-amz-* ones added here (e.g. Range, Content-MD5). */
  readonly headers: Readonly<Record<string, string>>;
  /** sha256Hex of the body, emptyPayloadHash, or unsignedPayload. */
  readonly payloadHash: string;
  readonly credentials: SigningCredentials;
  readonly region: string;
  readonly service?: string;
  readonly time: Date;
}

/**
 * The headers to send: the given ones plus host, x-amz-date,
 * x-amz-content-sha256, x-amz-security-token (with a session token) and
 * Authorization. Every header returned except Authorization is signed.
 */
export function signRequest(input: SignInput): Record<string, string> {
  const service = input.service ?? 's3';
  const headers: Record<string, string> = {
    ...input.headers,
    host: input.host,
    'x-amz-date': amzDate(input.time),
    'x-amz-content-sha256': input.payloadHash,
  };
  if (input.credentials.sessionToken !== undefined) headers['x-amz-security-token'] = input.credentials.sessionToken;
  const canonical = canonicalRequest({ method: input.method, path: input.path, query: input.query, headers, payloadHash: input.payloadHash });
  const scope = credentialScope(input.time, input.region, service);
  const key = signingKey(input.credentials.secretAccessKey, amzDate(input.time).slice(0, 8), input.region, service);
  const signature = createHmac('sha256', key).update(stringToSign(input.time, scope, canonical.text), 'utf8').digest('hex');
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${input.credentials.accessKeyId}/${scope},SignedHeaders=${canonical.signedHeaders},Signature=${signature}`;
  return headers;
}
