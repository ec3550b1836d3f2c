import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from './fakeclock.ts';

describe('FakeClock', () => {
  it('fires due timers in order of due time, with now() at each timer’s due time', () => {
    const clock = new FakeClock(100);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push(`b@${clock.now()}`), 20);
    clock.setTimeout(() => fired.push(`a@${clock.now()}`), 10);
    clock.setTimeout(() => fired.push(`c@${clock.now()}`), 20);
    clock.advance(15);
    assert.deepEqual(fired, ['a@110']);
    clock.advance(100);
    assert.deepEqual(fired, ['a@110', 'b@120', 'c@120']);
    assert.equal(clock.now(), 215);
  });

  it('fires timers set by a timer when they fall due within the same step, and not cleared ones', () => {
    const clock = new FakeClock();
    const fired: number[] = [];
    clock.setTimeout(() => {
      fired.push(clock.now());
      clock.setTimeout(() => fired.push(clock.now()), 5);
    }, 5);
    const cleared = clock.setTimeout(() => fired.push(-1), 7);
    clock.clearTimeout(cleared);
    clock.advance(10);
    assert.deepEqual(fired, [5, 10]);
    assert.equal(clock.pendingTimers, 0);
  });
});
