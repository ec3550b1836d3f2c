import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppliedChildren, inputsFingerprint, type ChildInputs } from './children.ts';

const inputs: ChildInputs = {
  uid: 'u-1',
  generation: 3,
  passwords: { root: 'r', replication: 'p', operator: 'o', manager: 'm' },
  nodeCount: 3,
  replicas: 3,
};

describe('inputsFingerprint', () => {
  it('is stable for the same inputs and changes with each of them', () => {
    const base = inputsFingerprint(inputs);
    assert.equal(inputsFingerprint({ ...inputs, passwords: { ...inputs.passwords } }), base);
    const changed: ChildInputs[] = [
      { ...inputs, uid: 'u-2' },
      { ...inputs, generation: 4 },
      { ...inputs, generation: undefined },
      { ...inputs, passwords: { ...inputs.passwords, manager: 'other' } },
      { ...inputs, nodeCount: 2 },
      { ...inputs, replicas: 4 },
    ];
    for (const c of changed) assert.notEqual(inputsFingerprint(c), base, JSON.stringify({ ...c, passwords: undefined }));
  });

  it('holds no password in clear', () => {
    const fingerprint = inputsFingerprint({ ...inputs, passwords: { root: 'secret-root-pw', replication: 'x', operator: 'y', manager: 'z' } });
    assert.match(fingerprint, /^[0-9a-f]{64}$/);
  });
});

describe('AppliedChildren', () => {
  it('applies on the first pass, on a change of inputs and after the resync interval, not otherwise', () => {
    const applied = new AppliedChildren();
    const a = inputsFingerprint(inputs);
    const b = inputsFingerprint({ ...inputs, replicas: 2 });
    assert.equal(applied.needed('ns/db', a, 0, 60_000), true);
    applied.remember('ns/db', a, 0);
    assert.equal(applied.needed('ns/db', a, 59_999, 60_000), false);
    assert.equal(applied.needed('ns/db', b, 1_000, 60_000), true);
    assert.equal(applied.needed('ns/db', a, 60_000, 60_000), true);
    assert.equal(applied.needed('ns/other', a, 1_000, 60_000), true);
    applied.forget('ns/db');
    assert.equal(applied.needed('ns/db', a, 1_000, 60_000), true);
  });
});
