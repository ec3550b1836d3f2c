import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nodeForClaim, podsUsingClaim, type ClaimObject, type ClaimUser } from './node-choice.ts';

const claim = (modes: string[], phase = 'Bound'): ClaimObject => ({ metadata: { name: 'uploads' }, spec: { accessModes: modes }, status: { phase, accessModes: modes } });
const pod = (name: string, nodeName: string | undefined, claimName: string, phase = 'Running', deleting = false): ClaimUser => ({
  metadata: { name, ...(deleting ? { deletionTimestamp: '2026-12-02T03:00:00Z' } : {}) },
  spec: { ...(nodeName === undefined ? {} : { nodeName }), volumes: [{ name: 'data', persistentVolumeClaim: { claimName } }, { name: 'tmp' }] },
  status: { phase },
});

describe('the node of a Job that mounts a claim', () => {
  it('is the node of the running pod that uses a ReadWriteOnce claim', () => {
    const pods = [pod('other', 'node-c', 'elsewhere'), pod('wordpress-1', 'node-b', 'uploads'), pod('wordpress-0', 'node-a', 'uploads')];
    assert.deepEqual(nodeForClaim('uploads', claim(['ReadWriteOnce']), pods), { nodeName: 'node-a' });
  });

  it('is free when no pod holds the claim, or any node may mount it', () => {
    const finished = [pod('done', 'node-a', 'uploads', 'Succeeded'), pod('failed', 'node-a', 'uploads', 'Failed'), pod('pending', undefined, 'uploads', 'Pending'), pod('going', 'node-a', 'uploads', 'Running', true)];
    assert.deepEqual(nodeForClaim('uploads', claim(['ReadWriteOnce']), finished), {});
    assert.deepEqual(podsUsingClaim(finished, 'uploads'), []);
    assert.deepEqual(nodeForClaim('uploads', claim(['ReadWriteMany']), [pod('wordpress-0', 'node-a', 'uploads')]), {});
    assert.deepEqual(nodeForClaim('uploads', claim(['ReadOnlyMany', 'ReadWriteOnce']), [pod('wordpress-0', 'node-a', 'uploads')]), {});
  });

  it("leaves out the Job's own earlier pods", () => {
    const pods = [pod('site-files-restore-abcde', 'node-a', 'uploads', 'Running')];
    assert.deepEqual(nodeForClaim('uploads', claim(['ReadWriteOnce']), pods, 'site-files-restore-'), {});
  });

  it('refuses a missing or lost claim, and a ReadWriteOncePod claim in use; a pending one waits for the Job as its first consumer', () => {
    assert.equal((nodeForClaim('uploads', undefined, []) as { refusal: { reason: string } }).refusal.reason, 'ClaimNotFound');
    assert.equal((nodeForClaim('uploads', claim(['ReadWriteOnce'], 'Lost'), []) as { refusal: { reason: string } }).refusal.reason, 'ClaimLost');
    assert.deepEqual(nodeForClaim('uploads', claim(['ReadWriteOnce'], 'Pending'), []), {});
    const inUse = nodeForClaim('uploads', claim(['ReadWriteOncePod']), [pod('wordpress-0', 'node-a', 'uploads')]);
    assert.ok('refusal' in inUse);
    assert.equal(inUse.refusal.reason, 'ClaimInUse');
    assert.match(inUse.refusal.message, /pod wordpress-0 uses it/);
    assert.deepEqual(nodeForClaim('uploads', claim(['ReadWriteOncePod']), []), {});
  });
});
