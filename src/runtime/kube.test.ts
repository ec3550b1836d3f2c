import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KubeApiError, statusCodeOf } from './kube.ts';

describe('statusCodeOf', () => {
  it('reads the status of our own errors', () => {
    const error = new KubeApiError('GET /api/v1/namespaces/x', 404, { reason: 'NotFound', message: 'namespaces "x" not found' });
    assert.equal(statusCodeOf(error), 404);
    assert.equal(error.reason, 'NotFound');
    assert.match(error.message, /GET \/api\/v1\/namespaces\/x: HTTP 404 NotFound: namespaces "x" not found/);
  });

  it('reads errors that carry an HTTP status as code or statusCode, and a watch Status', () => {
    assert.equal(statusCodeOf(Object.assign(new Error('Conflict'), { code: 409 })), 409);
    assert.equal(statusCodeOf(Object.assign(new Error('Gone'), { statusCode: 410 })), 410);
    assert.equal(statusCodeOf({ kind: 'Status', code: 410, reason: 'Expired' }), 410);
  });

  it('is undefined for network errors and anything without an HTTP status', () => {
    assert.equal(statusCodeOf(new Error('fetch failed')), undefined);
    assert.equal(statusCodeOf(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })), undefined);
    assert.equal(statusCodeOf({ code: 7 }), undefined);
    assert.equal(statusCodeOf(undefined), undefined);
    assert.equal(statusCodeOf('404'), undefined);
  });
});
