import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nextHealthCheckMs } from './health-check.ts';

describe('nextHealthCheckMs', () => {
  const interval = 1000;
  const failoverAfterMs = 3000;

  it('keeps the health-check period while the writer answers', () => {
    assert.equal(nextHealthCheckMs({ nowMs: 10_000, failoverAfterMs, primaryUnreachableSinceMs: undefined }, interval), 1000);
  });

  it('keeps the period while the failover is more than a period away', () => {
    assert.equal(nextHealthCheckMs({ nowMs: 10_000, failoverAfterMs, primaryUnreachableSinceMs: 9_500 }, interval), 1000);
  });

  it('looks again when the failover falls due, not a period later', () => {
    assert.equal(nextHealthCheckMs({ nowMs: 12_300, failoverAfterMs, primaryUnreachableSinceMs: 10_000 }, interval), 700);
    assert.equal(nextHealthCheckMs({ nowMs: 12_999, failoverAfterMs, primaryUnreachableSinceMs: 10_000 }, interval), 50);
  });

  it('goes back to the period once the failover is past due (acted on, or blocked)', () => {
    assert.equal(nextHealthCheckMs({ nowMs: 13_000, failoverAfterMs, primaryUnreachableSinceMs: 10_000 }, interval), 1000);
    assert.equal(nextHealthCheckMs({ nowMs: 60_000, failoverAfterMs, primaryUnreachableSinceMs: 10_000 }, interval), 1000);
  });
});
