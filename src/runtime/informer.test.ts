import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Backoff, LineSplitter } from './informer.ts';

describe('LineSplitter', () => {
  it('returns complete lines and keeps a partial one, also across multi-byte characters', () => {
    const lines = new LineSplitter();
    const bytes = new TextEncoder().encode('{"a":1}\n{"b":"ü');
    assert.deepEqual(lines.push(bytes.slice(0, 8)), ['{"a":1}']);
    // Split inside the two bytes of "ü".
    assert.deepEqual(lines.push(bytes.slice(8, bytes.length - 1)), []);
    assert.deepEqual(lines.push(bytes.slice(bytes.length - 1)), []);
    assert.deepEqual(lines.push(new TextEncoder().encode('"}\n\n{"c":3}\n')), ['{"b":"ü"}', '{"c":3}']);
  });
});

describe('Backoff', () => {
  it('doubles from the initial delay up to the cap, with at most 20 % jitter, and starts over after reset', () => {
    const backoff = new Backoff(200, 10_000);
    const delays = Array.from({ length: 10 }, () => backoff.next());
    const bases = [200, 400, 800, 1600, 3200, 6400, 10_000, 10_000, 10_000, 10_000];
    delays.forEach((delay, i) => {
      const base = bases[i] ?? 0;
      assert.ok(delay >= base && delay <= Math.min(10_000, base * 1.2), `delay ${i}: ${delay} for base ${base}`);
    });
    backoff.reset();
    assert.ok(backoff.next() <= 240);
  });
});
