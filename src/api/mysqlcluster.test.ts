import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { durationSecondsText, managedOnlyFields, mysqlClusterSpec } from './mysqlcluster.ts';

describe('durationSecondsText', () => {
  it('writes milliseconds as seconds with at most three decimals', () => {
    assert.equal(durationSecondsText(1734), '1.734');
    assert.equal(durationSecondsText(1500), '1.5');
    assert.equal(durationSecondsText(2000), '2');
    assert.equal(durationSecondsText(0), '0');
    assert.equal(durationSecondsText(12.6), '0.013');
  });

  it('matches the pattern the CRD checks', () => {
    const pattern = new RegExp('^[0-9]+([.][0-9]{1,3})?$');
    for (const ms of [0, 1, 10, 999, 1000, 1001, 59999.4, 3_600_000]) assert.match(durationSecondsText(ms), pattern);
  });

  it('refuses what is not a duration', () => {
    assert.throws(() => durationSecondsText(-1), RangeError);
    assert.throws(() => durationSecondsText(Number.NaN), RangeError);
  });
});

describe('managed-only fields', () => {
  it('lists the new scheduling and pod fields, so spec.external refuses them', () => {
    const properties = Object.keys(mysqlClusterSpec.openapi.properties ?? {});
    for (const field of ['priorityClassName', 'podAnnotations', 'podLabels']) {
      assert.ok((managedOnlyFields as readonly string[]).includes(field), field);
      assert.ok(properties.includes(field), field);
    }
  });
});
