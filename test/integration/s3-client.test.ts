// The S3 client (src/storage/s3.ts) against a real S3-compatible store
// (SeaweedFS, test/env/object-store.ts) that this file starts itself: objects
// written and read back byte for byte, listings paged past 1000 keys, deletes
// single and in batches, multipart uploads, keys that need encoding, and the
// errors a user meets — a wrong secret, a missing bucket or key, an unsigned
// request — each with S3's code and without the secret.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { S3Client, S3Error } from '../../src/storage/s3.ts';
import { startObjectStore, type ObjectStore } from '../env/object-store.ts';

let store: ObjectStore;
let s3: S3Client;
const bucket = 'client-test';

before(async () => {
  const started = performance.now();
  store = await startObjectStore({ buckets: [bucket] });
  process.stdout.write(`# object store started in ${((performance.now() - started) / 1000).toFixed(2)} s\n`);
  s3 = store.client();
});

after(async () => {
  s3.close();
  await store.stop();
});

const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

async function readStream(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Runs `work` over `items` with at most `limit` at once. */
async function inParallel<T>(items: readonly T[], limit: number, work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  }));
}

describe('objects', () => {
  it('stores, describes and returns an object byte for byte, whole, streamed and by range', async () => {
    const body = randomBytes(300_000);
    const { etag } = await s3.putObject(bucket, 'site-a/nightly/20261202T030000Z/data.sql.gz', body);
    assert.equal(etag, createHash('md5').update(body).digest('hex'));
    const head = await s3.headObject(bucket, 'site-a/nightly/20261202T030000Z/data.sql.gz');
    assert.equal(head?.size, body.length);
    assert.equal(head.etag, etag);
    assert.ok(Math.abs(head.lastModified.getTime() - Date.now()) < 120_000, `last modified ${head.lastModified.toISOString()}`);
    assert.equal(sha256(await s3.getObject(bucket, 'site-a/nightly/20261202T030000Z/data.sql.gz')), sha256(body));
    const streamed = await s3.getObjectStream(bucket, 'site-a/nightly/20261202T030000Z/data.sql.gz');
    assert.equal(streamed.contentLength, body.length);
    assert.equal(sha256(await readStream(streamed.body)), sha256(body));
    const range = await s3.getObjectStream(bucket, 'site-a/nightly/20261202T030000Z/data.sql.gz', { range: { start: 1000, end: 1999 } });
    assert.deepEqual(await readStream(range.body), body.subarray(1000, 2000));
  });

  it('stores a stream of known length (unsigned payload)', async () => {
    const body = randomBytes(2 * 1024 * 1024 + 7);
    await s3.putObjectStream(bucket, 'streamed/object', Readable.from([body.subarray(0, 1_000_000), body.subarray(1_000_000)]), { contentLength: body.length });
    assert.equal(sha256(await s3.getObject(bucket, 'streamed/object')), sha256(body));
  });

  it('keeps keys that need encoding apart and returns them as written', async () => {
    const keys = ['odd/a b+c&d=e?f#g%h.txt', 'odd/ü/ß/☺', 'odd/..dots/.x', "odd/(quote)'s!*~"];
    for (const key of keys) await s3.putObject(bucket, key, key);
    for (const key of keys) assert.equal((await s3.getObject(bucket, key)).toString('utf8'), key);
    const listed = (await s3.listAllObjects(bucket, { prefix: 'odd/' })).map((o) => o.key);
    assert.deepEqual([...listed].sort(), [...keys].sort());
  });

  it('uploads in parts; the object exists only once the upload completes, and an aborted upload leaves none', async () => {
    const first = randomBytes(5 * 1024 * 1024);
    const second = randomBytes(1234);
    const uploadId = await s3.createMultipartUpload(bucket, 'multipart/data');
    const parts = [await s3.uploadPart(bucket, 'multipart/data', uploadId, 1, first), await s3.uploadPart(bucket, 'multipart/data', uploadId, 2, second)];
    assert.equal(await s3.headObject(bucket, 'multipart/data'), undefined);
    await s3.completeMultipartUpload(bucket, 'multipart/data', uploadId, parts);
    assert.equal(sha256(await s3.getObject(bucket, 'multipart/data')), sha256(Buffer.concat([first, second])));

    const abandoned = await s3.createMultipartUpload(bucket, 'multipart/abandoned');
    await s3.uploadPart(bucket, 'multipart/abandoned', abandoned, 1, second);
    await s3.abortMultipartUpload(bucket, 'multipart/abandoned', abandoned);
    assert.equal(await s3.headObject(bucket, 'multipart/abandoned'), undefined);
  });
});

describe('listing and deleting', () => {
  const prefix = 'many/';
  const keys = Array.from({ length: 1010 }, (_, i) => `${prefix}${i % 2 === 0 ? 'even' : 'odd'}/${String(i).padStart(5, '0')}`);

  it('pages past 1000 keys in key order, and groups by a delimiter', async () => {
    const started = performance.now();
    await inParallel(keys, 16, (key) => s3.putObject(bucket, key, key));
    process.stdout.write(`# ${keys.length} objects written in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);

    const first = await s3.listObjectsV2(bucket, { prefix });
    assert.equal(first.objects.length, 1000);
    assert.notEqual(first.nextContinuationToken, undefined);
    const second = await s3.listObjectsV2(bucket, { prefix, continuationToken: first.nextContinuationToken });
    assert.equal(second.objects.length, keys.length - 1000);
    assert.equal(second.nextContinuationToken, undefined);

    const all = await s3.listAllObjects(bucket, { prefix });
    assert.deepEqual(all.map((o) => o.key), [...keys].sort());
    assert.ok(all.every((o) => o.size === Buffer.byteLength(o.key)));

    const small: string[] = [];
    for await (const page of s3.listObjectsV2Pages(bucket, { prefix: `${prefix}even/`, maxKeys: 100 })) {
      assert.ok(page.objects.length <= 100);
      small.push(...page.objects.map((o) => o.key));
    }
    assert.equal(small.length, Math.ceil(keys.length / 2));

    const grouped = await s3.listObjectsV2(bucket, { prefix, delimiter: '/' });
    assert.deepEqual(grouped.objects, []);
    assert.deepEqual(grouped.commonPrefixes, [`${prefix}even/`, `${prefix}odd/`]);
  });

  it('deletes in batches of 1000 and single objects; deleting what is gone is no error', async () => {
    await s3.deleteObjects(bucket, [...keys, `${prefix}never-existed`]);
    assert.deepEqual(await s3.listAllObjects(bucket, { prefix }), []);
    await s3.putObject(bucket, 'single', 'x');
    await s3.deleteObject(bucket, 'single');
    assert.equal(await s3.headObject(bucket, 'single'), undefined);
    await s3.deleteObject(bucket, 'single');
  });
});

describe('errors a user meets', () => {
  it('a wrong secret: SignatureDoesNotMatch, and neither secret in the message', async () => {
    const wrongSecret = 'this-is-not-the-secret-0123456789';
    const client = new S3Client({ endpoint: store.endpoint, credentials: { accessKeyId: store.accessKeyId, secretAccessKey: wrongSecret } });
    try {
      await assert.rejects(client.listObjectsV2(bucket), (error: unknown) => {
        assert.ok(error instanceof S3Error, String(error));
        assert.equal(error.code, 'SignatureDoesNotMatch');
        assert.equal(error.statusCode, 403);
        assert.match(error.message, /^S3 ListObjectsV2 client-test: HTTP 403 SignatureDoesNotMatch: /);
        for (const secret of [wrongSecret, store.secretAccessKey]) assert.ok(!error.message.includes(secret) && !JSON.stringify(error).includes(secret));
        return true;
      });
    } finally {
      client.close();
    }
  });

  it('an unknown access key: InvalidAccessKeyId', async () => {
    const client = new S3Client({ endpoint: store.endpoint, credentials: { accessKeyId: 'NOSUCHKEY0000000', secretAccessKey: 'whatever-secret' } });
    try {
      await assert.rejects(client.getObject(bucket, 'x'), (error: unknown) => error instanceof S3Error && error.code === 'InvalidAccessKeyId' && error.statusCode === 403);
    } finally {
      client.close();
    }
  });

  it('an unsigned (anonymous) request is refused', async () => {
    await s3.putObject(bucket, 'private', 'secret data');
    const answer = await fetch(`${store.endpoint}/${bucket}/private`);
    assert.equal(answer.status, 403);
    assert.ok(!(await answer.text()).includes('secret data'));
  });

  it('a missing bucket: NoSuchBucket for reads, lists and writes; bucketExists says false', async () => {
    for (const call of [() => s3.getObject('no-such-bucket', 'k'), () => s3.listObjectsV2('no-such-bucket'), () => s3.putObject('no-such-bucket', 'k', 'v')]) {
      await assert.rejects(call(), (error: unknown) => error instanceof S3Error && error.code === 'NoSuchBucket' && error.statusCode === 404);
    }
    assert.equal(await s3.bucketExists('no-such-bucket'), false);
    assert.equal(await s3.bucketExists(bucket), true);
  });

  it('a missing key: NoSuchKey for a read, undefined for a head', async () => {
    await assert.rejects(s3.getObject(bucket, 'missing/key'), (error: unknown) => error instanceof S3Error && error.code === 'NoSuchKey' && /^S3 GetObject client-test\/missing\/key: HTTP 404 NoSuchKey/.test(error.message));
    assert.equal(await s3.headObject(bucket, 'missing/key'), undefined);
  });

  it('creating a bucket that exists is fine', async () => {
    await s3.createBucket(bucket);
    await store.createBucket(bucket);
  });
});
