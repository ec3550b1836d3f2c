import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cachedSecret, type SecretObject } from './context.ts';

const secret = (type: string | undefined): SecretObject => ({
  metadata: { name: 'x', namespace: 'shop' },
  ...(type === undefined ? {} : { type }),
  data: { password: 'c2VjcmV0' },
});

describe('cachedSecret', () => {
  it('drops the data of Helm release records and ServiceAccount tokens', () => {
    assert.deepEqual(cachedSecret(secret('helm.sh/release.v1')).data, {});
    assert.deepEqual(cachedSecret(secret('kubernetes.io/service-account-token')).data, {});
    assert.equal(cachedSecret(secret('helm.sh/release.v1')).metadata.name, 'x');
  });

  it('keeps every other Secret as it is: passwords, admin credentials and CA certificates live in them', () => {
    for (const type of [undefined, 'Opaque', 'kubernetes.io/tls', 'kubernetes.io/basic-auth']) {
      const original = secret(type);
      assert.equal(cachedSecret(original), original, String(type));
    }
  });
});
