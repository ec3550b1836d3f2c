import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatMicroTime } from './microtime.ts';

const tenOClock = Date.UTC(2026, 10, 25, 10, 0, 0);

describe('formatMicroTime', () => {
  it('prints exactly six fractional digits in UTC', () => {
    assert.equal(formatMicroTime(tenOClock + 123.456), '2026-11-25T10:00:00.123456Z');
  });

  it('pads whole milliseconds and whole seconds with zeros', () => {
    assert.equal(formatMicroTime(tenOClock), '2026-11-25T10:00:00.000000Z');
    assert.equal(formatMicroTime(tenOClock + 7), '2026-11-25T10:00:00.007000Z');
    assert.equal(formatMicroTime(tenOClock + 0.001), '2026-11-25T10:00:00.000001Z');
  });

  it('rounds to the nearest microsecond, carrying into the next second', () => {
    assert.equal(formatMicroTime(tenOClock + 999.9996), '2026-11-25T10:00:01.000000Z');
    // A double holds today's epoch milliseconds to about 0.25 µs, so the
    // inputs stay well clear of the half-microsecond boundary.
    assert.equal(formatMicroTime(tenOClock + 1.0001), '2026-11-25T10:00:00.001000Z');
    assert.equal(formatMicroTime(tenOClock + 1.0009), '2026-11-25T10:00:00.001001Z');
  });

  it('matches the pattern the API server requires for any current time', () => {
    assert.match(formatMicroTime(Date.now() + Math.random()), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
  });

  it('refuses a value that is not a time', () => {
    assert.throws(() => formatMicroTime(Number.NaN), RangeError);
  });
});
