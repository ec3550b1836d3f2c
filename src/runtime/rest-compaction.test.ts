import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { pino } from 'pino';
import { RestCompaction } from './rest-compaction.ts';

describe('RestCompaction', () => {
  const original = globalThis.gc;
  let calls: unknown[] = [];
  beforeEach(() => {
    calls = [];
    // The test runner has no --expose-gc: a recording stand-in.
    globalThis.gc = ((options?: unknown) => {
      calls.push(options);
    }) as NodeJS.GCFunction;
  });
  afterEach(() => {
    globalThis.gc = original;
  });

  function compaction(state: { atRest: boolean; work: number }): RestCompaction {
    return new RestCompaction({ atRest: () => state.atRest, workDone: () => state.work, logger: pino({ level: 'silent' }), minWork: 100 });
  }

  it('collects once after a burst, when the operator stays at rest for two checks in a row', () => {
    const state = { atRest: false, work: 0 };
    const c = compaction(state);
    state.work = 500;
    assert.equal(c.check(), false, 'busy');
    state.atRest = true;
    assert.equal(c.check(), false, 'at rest for the first time');
    assert.equal(c.check(), true, 'still at rest, nothing done meanwhile');
    assert.deepEqual(calls, [{ type: 'major', execution: 'sync', flavor: 'last-resort' }]);
    assert.equal(c.check(), false, 'no new work since');
    assert.equal(calls.length, 1);
  });

  it('waits while work goes on between checks, and skips rests after too little work', () => {
    const state = { atRest: true, work: 150 };
    const c = compaction(state);
    assert.equal(c.check(), false);
    state.work = 160; // reconciles ran between the checks, though both found it at rest
    assert.equal(c.check(), false);
    assert.equal(c.check(), true);
    state.work = 200;
    assert.equal(c.check(), false);
    assert.equal(c.check(), false, 'only 40 reconciles since the last collection');
    assert.equal(calls.length, 1);
  });
});
