// The parts of the S3 client that need no server: answers parsed, errors
// built without secrets, names checked, options refused. The client against
// a real store: test/integration/s3-client.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateBucketName, validateObjectKey } from './names.ts';
import { errorFromAnswer } from './s3-error.ts';
import { parseListPage, S3Client } from './s3.ts';

describe('parseListPage', () => {
  it('reads objects, common prefixes and the continuation token of a truncated page', () => {
    const page = parseListPage(
      `<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>backups</Name><Prefix>site-a/</Prefix><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys><IsTruncated>true</IsTruncated>
  <NextContinuationToken>tok/en=</NextContinuationToken>
  <Contents><Key>site-a/a &amp; b.sql.gz</Key><LastModified>2026-12-02T03:00:00.000Z</LastModified><ETag>&quot;9e107d9d372bb6826bd81d3542a419d6&quot;</ETag><Size>1234</Size><StorageClass>STANDARD</StorageClass></Contents>
  <Contents><Key>site-a/b</Key><LastModified>2026-12-02T04:00:00Z</LastModified><ETag>"x-2"</ETag><Size>0</Size></Contents>
  <CommonPrefixes><Prefix>site-a/nightly/</Prefix></CommonPrefixes>
</ListBucketResult>`,
      'backups',
    );
    assert.deepEqual(page.objects, [
      { key: 'site-a/a & b.sql.gz', size: 1234, etag: '9e107d9d372bb6826bd81d3542a419d6', lastModified: new Date('2026-12-02T03:00:00Z') },
      { key: 'site-a/b', size: 0, etag: 'x-2', lastModified: new Date('2026-12-02T04:00:00Z') },
    ]);
    assert.deepEqual(page.commonPrefixes, ['site-a/nightly/']);
    assert.equal(page.nextContinuationToken, 'tok/en=');
  });

  it('has no token on the last page, and refuses a truncated page without one', () => {
    assert.equal(parseListPage('<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>', 'b').nextContinuationToken, undefined);
    assert.throws(() => parseListPage('<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>', 'b'), /without NextContinuationToken/);
    assert.throws(() => parseListPage('<Error><Code>x</Code></Error>', 'b'), /expected a ListBucketResult/);
  });
});

describe('errorFromAnswer', () => {
  it('carries S3 code and message, and leaves out what the server echoes of the signature', () => {
    const error = errorFromAnswer('GetObject', 'backups', 'a/b', 403, `<Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match the signature you provided.</Message><StringToSign>AWS4-HMAC-SHA256 secret-ish</StringToSign><SignatureProvided>abcdef0123</SignatureProvided><RequestId>r1</RequestId></Error>`);
    assert.equal(error.code, 'SignatureDoesNotMatch');
    assert.equal(error.statusCode, 403);
    assert.equal(error.requestId, 'r1');
    assert.equal(error.message, 'S3 GetObject backups/a/b: HTTP 403 SignatureDoesNotMatch: The request signature we calculated does not match the signature you provided.');
    assert.ok(!error.message.includes('abcdef0123'));
  });

  it('derives a code from the status when there is no body (HEAD), and quotes a non-XML body briefly', () => {
    assert.equal(errorFromAnswer('HeadObject', 'b', 'k', 404, '').code, 'NotFound');
    const proxy = errorFromAnswer('ListObjectsV2', 'b', undefined, 502, '<html><body>Bad   gateway</body></html>');
    assert.equal(proxy.code, 'HTTP502');
    assert.match(proxy.message, /Bad gateway/);
  });
});

describe('names', () => {
  it('accepts S3 bucket names and refuses what could change the path', () => {
    for (const good of ['backups', 'my.bucket-1', 'abc']) validateBucketName(good);
    for (const bad of ['ab', 'Backups', 'a/b', '..', 'a..b', '-ab', 'ab-', '192.168.1.1', 'a'.repeat(64), 'a b']) {
      assert.throws(() => { validateBucketName(bad); }, /invalid S3 bucket name/, bad);
    }
  });

  it('accepts keys of 1 to 1024 bytes without control characters or dot segments', () => {
    for (const good of ['a', 'site-a/nightly/20261202T030000Z/data.sql.gz', '..x/.y', 'ä'.repeat(512)]) validateObjectKey(good);
    for (const bad of ['', 'a\nb', 'a\u0000', 'ä'.repeat(513), '\ud800', '../x', 'a/./b', 'a/..']) assert.throws(() => { validateObjectKey(bad); }, /invalid S3 object key/);
  });
});

describe('S3Client options', () => {
  const credentials = { accessKeyId: 'id', secretAccessKey: 'secret' };
  it('refuses endpoints it cannot use, without echoing credentials from the URL', () => {
    assert.throws(() => new S3Client({ endpoint: 'ftp://x', credentials }), /only http and https/);
    assert.throws(() => new S3Client({ endpoint: 'https://user:pw@x', credentials }), (error: Error) => !error.message.includes('pw') && /credentials belong/.test(error.message));
    assert.throws(() => new S3Client({ endpoint: 'https://x', credentials: { accessKeyId: 'id', secretAccessKey: '' } }), /must not be empty/);
  });

  it('names its endpoint with a base path but without a trailing slash', () => {
    assert.equal(new S3Client({ endpoint: 'https://s3.example.com/base/', credentials }).endpoint, 'https://s3.example.com/base');
  });

  it('checks names before sending anything', async () => {
    const client = new S3Client({ endpoint: 'http://127.0.0.1:1', credentials });
    await assert.rejects(client.getObject('Bad_Bucket', 'k'), /invalid S3 bucket name/);
    await assert.rejects(client.getObject('bucket', ''), /invalid S3 object key/);
  });

  it('reports an unreachable endpoint with the operation and object, and the network error as cause', async () => {
    const client = new S3Client({ endpoint: 'http://127.0.0.1:1', credentials: { accessKeyId: 'id', secretAccessKey: 'very-secret-key' } });
    await assert.rejects(client.headObject('bucket', 'a/b'), (error: Error) => {
      assert.match(error.message, /^S3 HeadObject bucket\/a\/b at http:\/\/127\.0\.0\.1:1: .*ECONNREFUSED/);
      assert.ok(!error.message.includes('very-secret-key'));
      assert.ok(error.cause instanceof Error);
      return true;
    });
  });
});
