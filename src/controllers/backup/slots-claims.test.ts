import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { QueuedRun } from '../../backup/queue.ts';
import { BackupSlots, claimTtlMs } from './slots.ts';

const at = (seconds: number): Date => new Date(Date.UTC(2026, 11, 2, 3, 0, seconds));
const run = (key: string, startAt: Date): QueuedRun => ({ key, id: '20261202T030000Z', dueAt: at(0), startAt });

describe('BackupSlots claims', () => {
  it('ends a claim when the cache shows its Job running, so an ended Job frees its slot without a settle', () => {
    const slots = new BackupSlots({ maxConcurrent: 1, jitterSeconds: 0 });
    assert.equal(slots.request(run('ns/a', at(1)), 'ns/a-job', new Set()).granted, true);
    // The cache shows it running: the claim is no longer needed ...
    assert.equal(slots.request(run('ns/b', at(2)), 'ns/b-job', new Set(['ns/a-job'])).granted, false);
    assert.equal(slots.claimed('ns/a-job'), false);
    // ... and when it ends (its backup deleted, never followed), the slot is free.
    assert.equal(slots.request(run('ns/b', at(2)), 'ns/b-job', new Set()).granted, true);
  });

  it('lets a claim the cache never confirms expire instead of holding a slot for ever', () => {
    let now = 1_000_000;
    const slots = new BackupSlots({ maxConcurrent: 1, jitterSeconds: 0 }, { now: () => now });
    assert.equal(slots.request(run('ns/a', at(1)), 'ns/a-job', new Set()).granted, true);
    now += claimTtlMs - 1;
    assert.equal(slots.request(run('ns/b', at(2)), 'ns/b-job', new Set()).granted, false, 'still claimed');
    now += 2;
    assert.equal(slots.request(run('ns/b', at(2)), 'ns/b-job', new Set()).granted, true, 'expired');
  });

  it('ends the claims of a backup that is deleted, so Jobs deleted with it before the cache showed them free their slots at once', () => {
    const slots = new BackupSlots({ maxConcurrent: 2, jitterSeconds: 0 });
    assert.equal(slots.request(run('ns/a', at(1)), 'ns/a-job', new Set()).granted, true);
    assert.equal(slots.request(run('ns/b', at(2)), 'ns/b-job', new Set()).granted, true);
    assert.equal(slots.request(run('ns/c', at(3)), 'ns/c-job', new Set()).granted, false);
    // A VolumeBackup of the same name is another backup: its forgetting frees nothing of ns/a's.
    slots.forget('ns/a', 'VolumeBackup');
    assert.equal(slots.claimed('ns/a-job'), true);
    slots.forget('ns/a');
    assert.equal(slots.claimed('ns/a-job'), false);
    assert.equal(slots.claimed('ns/b-job'), true);
    assert.equal(slots.request(run('ns/c', at(3)), 'ns/c-job', new Set()).granted, true);
  });
});
