import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { storagePlan, type ClaimObservation } from './storage-growth.ts';

const claim = (index: number, shape: Partial<ClaimObservation> = {}): ClaimObservation => ({
  name: `data-db-${index}`,
  request: '10Gi',
  capacity: '10Gi',
  storageClassName: 'fast',
  bound: true,
  ...shape,
});
const classes: Record<string, boolean | undefined> = { fast: true, 'node-local': false };
const allowed = (name: string | undefined) => (name === undefined ? undefined : classes[name]);

describe('storagePlan', () => {
  it('nothing to do when every volume has the size', () => {
    const plan = storagePlan('10Gi', [claim(0), claim(1)], allowed);
    assert.deepEqual(plan.expand, []);
    assert.equal(plan.condition.ready, true);
    assert.equal(plan.condition.reason, 'AsRequested');
  });

  it('a larger size in another unit still compares by bytes', () => {
    assert.equal(storagePlan('10240Mi', [claim(0)], allowed).condition.reason, 'AsRequested');
    assert.deepEqual(storagePlan('10738418688', [claim(0)], allowed).expand, ['data-db-0']);
  });

  it('grows every bound claim below the size where the class allows it', () => {
    const plan = storagePlan('20Gi', [claim(0), claim(1), claim(2, { request: '20Gi', capacity: '20Gi' })], allowed);
    assert.deepEqual(plan.expand, ['data-db-0', 'data-db-1']);
    assert.equal(plan.condition.ready, false);
    assert.equal(plan.condition.reason, 'Resizing');
  });

  it('leaves a pending claim alone (only a bound claim can grow)', () => {
    const plan = storagePlan('20Gi', [claim(0), claim(1, { bound: false, capacity: undefined })], allowed);
    assert.deepEqual(plan.expand, ['data-db-0']);
  });

  it('waits for the capacity once the requests are patched', () => {
    const plan = storagePlan('20Gi', [claim(0, { request: '20Gi' }), claim(1, { request: '20Gi', capacity: '20Gi' })], allowed);
    assert.deepEqual(plan.expand, []);
    assert.equal(plan.condition.reason, 'Resizing');
    assert.match(plan.condition.message, /waiting for data-db-0 \(10Gi now\) to reach 20Gi/);
  });

  it('reports a class without expansion instead of patching, naming the claims and their size', () => {
    const plan = storagePlan('20Gi', [claim(0, { storageClassName: 'node-local' }), claim(1, { storageClassName: 'node-local' })], allowed);
    assert.deepEqual(plan.expand, []);
    assert.equal(plan.condition.ready, false);
    assert.equal(plan.condition.reason, 'ExpansionNotAllowed');
    assert.equal(
      plan.condition.message,
      'spec.size asks for 20Gi, but StorageClass node-local does not allow volume expansion (allowVolumeExpansion is not true): data-db-0 (10Gi), data-db-1 (10Gi) keep their size. The instances go on running with it',
    );
  });

  it('a missing class or none counts as not allowing expansion; the others still grow', () => {
    const plan = storagePlan('20Gi', [claim(0, { storageClassName: 'gone' }), claim(1, { storageClassName: undefined }), claim(2)], allowed);
    assert.deepEqual(plan.expand, ['data-db-2']);
    assert.equal(plan.condition.reason, 'ExpansionNotAllowed');
    assert.match(plan.condition.message, /StorageClass gone does not allow .*data-db-0 .*; no StorageClass does not allow .*data-db-1/);
  });

  it('a size it cannot read changes nothing and says so', () => {
    const plan = storagePlan('1e3Gi', [claim(0)], allowed);
    assert.deepEqual(plan.expand, []);
    assert.equal(plan.condition.reason, 'SizeUnreadable');
  });
});
