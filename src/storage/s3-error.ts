// What a failed S3 request reports: the operation and object, the HTTP status
// and S3's error code and message (NoSuchBucket, SignatureDoesNotMatch, …).
// Built from the answer's Code, Message and RequestId only: S3 error bodies
// can echo the string to sign and the signature provided, which stay out of
// messages and logs. The secret key is never known here.
import { childText, parseXml, type XmlElement } from './xml.ts';

export class S3Error extends Error {
  /** e.g. 'GetObject' */
  readonly operation: string;
  readonly bucket: string | undefined;
  readonly key: string | undefined;
  readonly statusCode: number;
  /** S3's error code; for answers without a body (HEAD) one derived from the status: NotFound, Forbidden, … */
  readonly code: string;
  readonly requestId: string | undefined;

  constructor(init: { operation: string; bucket?: string; key?: string; statusCode: number; code: string; message: string; requestId?: string }) {
    super(`S3 ${init.operation} ${describeTarget(init.bucket, init.key)}: HTTP ${init.statusCode} ${init.code}: ${init.message}`);
    this.name = 'S3Error';
    this.operation = init.operation;
    this.bucket = init.bucket;
    this.key = init.key;
    this.statusCode = init.statusCode;
    this.code = init.code;
    this.requestId = init.requestId;
  }
}

/** `bucket/key`, `bucket` or `(no bucket)` for messages. */
export function describeTarget(bucket: string | undefined, key: string | undefined): string {
  if (bucket === undefined) return '(no bucket)';
  return key === undefined ? bucket : `${bucket}/${key}`;
}

const codeForStatus: Readonly<Record<number, string>> = {
  400: 'BadRequest',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
  412: 'PreconditionFailed',
  416: 'InvalidRange',
  500: 'InternalError',
  501: 'NotImplemented',
  503: 'ServiceUnavailable',
};

/** The S3Error for an answer outside 2xx whose body (possibly empty) has been read. */
export function errorFromAnswer(operation: string, bucket: string | undefined, key: string | undefined, statusCode: number, body: string): S3Error {
  let code = codeForStatus[statusCode] ?? `HTTP${statusCode}`;
  let message = 'no error details in the answer';
  let requestId: string | undefined;
  if (body.trim() !== '') {
    const error = s3ErrorDocument(body);
    if (error === undefined) {
      // Not S3's XML (a proxy's HTML page): its start says more than nothing, and carries no secrets of ours.
      message = body.slice(0, 200).replace(/\s+/g, ' ').trim();
    } else {
      code = childText(error, 'Code') ?? code;
      message = childText(error, 'Message') ?? message;
      requestId = childText(error, 'RequestId');
    }
  }
  return new S3Error({ operation, bucket, key, statusCode, code, message, requestId });
}

/** The <Error> document of an S3 answer, or undefined when the body is something else. */
function s3ErrorDocument(body: string): XmlElement | undefined {
  try {
    const root = parseXml(body);
    return root.name === 'Error' ? root : undefined;
  } catch {
    // Not XML at all: the caller quotes it.
    return undefined;
  }
}
