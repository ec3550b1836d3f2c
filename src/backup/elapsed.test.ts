import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { durationSecondsPattern } from '../api/backup-target.ts';
import { elapsedSeconds } from './elapsed.ts';

describe('elapsedSeconds', () => {
  it('gives seconds with three decimals', () => {
    assert.equal(elapsedSeconds('2026-12-02T03:00:00.250Z', '2026-12-02T03:01:02Z'), '61.750');
  });

  it('gives 0 for an end in the same whole second as a millisecond start, which the CRD accepts', () => {
    const value = elapsedSeconds('2026-12-02T03:00:00.001Z', '2026-12-02T03:00:00Z');
    assert.equal(value, '0.000');
    assert.match(value, new RegExp(durationSecondsPattern));
  });

  it('refuses what is not a time', () => {
    assert.throws(() => elapsedSeconds('soon', '2026-12-02T03:00:00Z'), /not a time: soon/);
  });
});
