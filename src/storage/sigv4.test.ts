// Signature V4 against the examples AWS documents: the four header-signed
// requests of the S3 guide ("Signature calculations for the Authorization
// header: transferring payload in a single chunk"), the signing-key example
// of the general SigV4 guide, and the plain GET of the SigV4 test suite.
// Inputs and expected values are the published ones; the requests are built
// here.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { amzDate, canonicalQuery, canonicalRequest, credentialScope, emptyPayloadHash, sha256Hex, signingKey, signRequest, stringToSign, uriEncode } from './sigv4.ts';

const s3Example = {
  credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
  host: 'examplebucket.s3.amazonaws.com',
  region: 'us-east-1',
  time: new Date('2013-05-24T00:00:00Z'),
};

function signatureOf(authorization: string | undefined): string {
  const match = /Signature=([0-9a-f]{64})$/.exec(authorization ?? '');
  assert.ok(match?.[1] !== undefined, `no signature in ${authorization}`);
  return match[1];
}

describe('SigV4: the S3 guide examples', () => {
  it('GET Object with a Range header', () => {
    const headers = signRequest({ ...s3Example, method: 'GET', path: '/test.txt', query: new URLSearchParams(), headers: { Range: 'bytes=0-9' }, payloadHash: emptyPayloadHash });
    assert.equal(
      headers.authorization,
      'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
    );
    assert.equal(headers['x-amz-date'], '20130524T000000Z');
    assert.equal(headers['x-amz-content-sha256'], 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('PUT Object with a key that needs encoding, a Date and a storage class header', () => {
    const body = 'Welcome to Amazon S3.';
    assert.equal(sha256Hex(body), '44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072');
    const headers = signRequest({
      ...s3Example,
      method: 'PUT',
      path: `/${uriEncode('test$file.text', true)}`,
      query: new URLSearchParams(),
      headers: { Date: 'Fri, 24 May 2013 00:00:00 GMT', 'x-amz-storage-class': 'REDUCED_REDUNDANCY' },
      payloadHash: sha256Hex(body),
    });
    assert.match(headers.authorization ?? '', /SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,/);
    assert.equal(signatureOf(headers.authorization), '98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd');
  });

  it('GET Bucket lifecycle: a sub-resource without a value', () => {
    const headers = signRequest({ ...s3Example, method: 'GET', path: '/', query: new URLSearchParams('lifecycle'), headers: {}, payloadHash: emptyPayloadHash });
    assert.equal(signatureOf(headers.authorization), 'fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543');
  });

  it('GET Bucket (list objects) with query parameters given out of order', () => {
    const headers = signRequest({ ...s3Example, method: 'GET', path: '/', query: new URLSearchParams({ prefix: 'J', 'max-keys': '2' }), headers: {}, payloadHash: emptyPayloadHash });
    assert.equal(signatureOf(headers.authorization), '34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7');
  });

  it('a session token is sent and signed', () => {
    const headers = signRequest({ ...s3Example, credentials: { ...s3Example.credentials, sessionToken: 'token' }, method: 'GET', path: '/', query: new URLSearchParams(), headers: {}, payloadHash: emptyPayloadHash });
    assert.equal(headers['x-amz-security-token'], 'token');
    assert.match(headers.authorization ?? '', /SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token,/);
  });

  it('the secret key appears in no header', () => {
    const headers = signRequest({ ...s3Example, method: 'GET', path: '/', query: new URLSearchParams(), headers: {}, payloadHash: emptyPayloadHash });
    for (const value of Object.values(headers)) assert.ok(!value.includes(s3Example.credentials.secretAccessKey));
  });
});

describe('SigV4: the general guide and test suite', () => {
  it('derives the documented signing keys', () => {
    const secret = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
    assert.equal(signingKey(secret, '20120215', 'us-east-1', 'iam').toString('hex'), 'f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d');
    assert.equal(signingKey(secret, '20150830', 'us-east-1', 'iam').toString('hex'), 'c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9');
  });

  it('signs the test suite\'s plain GET (headers host and x-amz-date only)', () => {
    const time = new Date('2015-08-30T12:36:00Z');
    const canonical = canonicalRequest({
      method: 'GET',
      path: '/',
      query: new URLSearchParams(),
      headers: { Host: 'example.amazonaws.com', 'X-Amz-Date': amzDate(time) },
      payloadHash: emptyPayloadHash,
    });
    assert.equal(canonical.text, `GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n${emptyPayloadHash}`);
    const scope = credentialScope(time, 'us-east-1', 'service');
    const toSign = stringToSign(time, scope, canonical.text);
    assert.equal(toSign, 'AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\nbb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63');
    const key = signingKey('wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', '20150830', 'us-east-1', 'service');
    assert.equal(createHmac('sha256', key).update(toSign).digest('hex'), '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31');
  });
});

describe('SigV4 encoding rules', () => {
  it('encodes every reserved character, keeps unreserved ones, and slashes only in paths', () => {
    assert.equal(uriEncode("a b!'()*~-._/+=&ü"), 'a%20b%21%27%28%29%2A~-._%2F%2B%3D%26%C3%BC');
    assert.equal(uriEncode('dir/sub dir/x', true), 'dir/sub%20dir/x');
  });

  it('sorts the query by encoded name and encodes empty values as name=', () => {
    assert.equal(canonicalQuery(new URLSearchParams([['prefix', 'a b'], ['list-type', '2'], ['delete', ''], ['continuation-token', 'x/y=']])), 'continuation-token=x%2Fy%3D&delete=&list-type=2&prefix=a%20b');
  });
});
