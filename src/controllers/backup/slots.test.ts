import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { QueuedRun } from '../../backup/queue.ts';
import { BackupSlots, expectGraceMs } from './slots.ts';

const at = (seconds: number): Date => new Date(Date.UTC(2026, 11, 2, 3, 0, seconds));
const run = (key: string, startAt: Date): QueuedRun => ({ key, id: '20261202T030000Z', dueAt: at(0), startAt });

describe('BackupSlots', () => {
  it('never grants more than maxConcurrent, counting Jobs created but not yet cached', () => {
    const slots = new BackupSlots({ maxConcurrent: 2, jitterSeconds: 300 });
    assert.deepEqual(slots.request(run('a/one', at(1)), 'a/one-job', new Set()), { granted: true });
    assert.deepEqual(slots.request(run('b/two', at(2)), 'b/two-job', new Set()), { granted: true });
    assert.deepEqual(slots.request(run('c/three', at(3)), 'c/three-job', new Set()), { granted: false, position: 1, length: 1 });
    // The cache catches up: the same two run.
    slots.settled('a/one-job');
    slots.settled('b/two-job');
    assert.equal(slots.request(run('c/three', at(3)), 'c/three-job', new Set(['a/one-job', 'b/two-job'])).granted, false);
    // One ends: the first in line gets the slot.
    assert.deepEqual(slots.request(run('c/three', at(3)), 'c/three-job', new Set(['b/two-job'])), { granted: true });
  });

  it('serves waiting runs in order of jittered due time, then name, whoever asks first', () => {
    const slots = new BackupSlots({ maxConcurrent: 1, jitterSeconds: 300 });
    const running = new Set(['x/busy']);
    slots.request(run('ns/late', at(50)), 'ns/late-job', running);
    slots.request(run('ns/b', at(10)), 'ns/b-job', running);
    slots.request(run('ns/a', at(10)), 'ns/a-job', running);
    assert.deepEqual(slots.queue(), ['ns/a', 'ns/b', 'ns/late']);
    // The slot frees; the last in line asks first and is refused.
    assert.deepEqual(slots.request(run('ns/late', at(50)), 'ns/late-job', new Set()), { granted: false, position: 3, length: 3 });
    assert.deepEqual(slots.request(run('ns/a', at(10)), 'ns/a-job', new Set()), { granted: true });
    assert.deepEqual(slots.queue(), ['ns/b', 'ns/late']);
  });

  it('lets a withdrawn run leave the queue', () => {
    const slots = new BackupSlots({ maxConcurrent: 1, jitterSeconds: 0 });
    slots.request(run('ns/a', at(1)), 'ns/a-job', new Set(['x/busy']));
    slots.withdraw('ns/a');
    assert.deepEqual(slots.queue(), []);
    assert.throws(() => new BackupSlots({ maxConcurrent: 0, jitterSeconds: 0 }), /maxConcurrent/);
  });

  it('shares one limit between MySQLBackup and VolumeBackup runs, in one queue, each kind woken on its own', () => {
    const slots = new BackupSlots({ maxConcurrent: 1, jitterSeconds: 0 });
    const running = new Set(['x/busy']);
    // The same namespace/name in both kinds: two different runs.
    slots.request(run('ns/site', at(20)), 'ns/site-db-job', running, 'MySQLBackup');
    slots.request(run('ns/site', at(10)), 'ns/site-files-job', running, 'VolumeBackup');
    slots.request(run('ns/other', at(30)), 'ns/other-job', running);
    assert.deepEqual(slots.queue(), ['ns/site', 'ns/site', 'ns/other']);
    assert.deepEqual(slots.waiting('VolumeBackup'), ['ns/site']);
    assert.deepEqual(slots.waiting('MySQLBackup'), ['ns/site', 'ns/other']);
    // The database backup asks first when the slot frees, but the files backup is ahead.
    assert.deepEqual(slots.request(run('ns/site', at(20)), 'ns/site-db-job', new Set(), 'MySQLBackup'), { granted: false, position: 2, length: 3 });
    assert.deepEqual(slots.request(run('ns/site', at(10)), 'ns/site-files-job', new Set(), 'VolumeBackup'), { granted: true });
    // Withdrawing one kind's run leaves the other kind's run of the same name.
    slots.withdraw('ns/site', 'VolumeBackup');
    assert.deepEqual(slots.waiting('MySQLBackup'), ['ns/site', 'ns/other']);
    slots.withdraw('ns/site');
    assert.deepEqual(slots.queue(), ['ns/other']);
  });
});

describe('BackupSlots: runs expected before they ask, and a new leader’s first pass', () => {
  it('keeps an expected run ahead of runs that may start after it, for a grace time after its start', () => {
    let now = at(5).getTime();
    const slots = new BackupSlots({ maxConcurrent: 1, jitterSeconds: 300 }, { now: () => now });
    // Its reconcile knew its start (3 s) but has not come back to ask.
    slots.expect(run('ns/early', at(3)));
    // A run that may start only later is not in line yet, and not counted.
    slots.expect(run('ns/future', at(60)));
    assert.deepEqual(slots.queue(), ['ns/early']);
    assert.deepEqual(slots.request(run('ns/later', at(4)), 'ns/later-job', new Set()), { granted: false, position: 2, length: 2 });
    assert.deepEqual(slots.request(run('ns/early', at(3)), 'ns/early-job', new Set()), { granted: true });
    // An expected run that never asks holds its place only expectGraceMs after its start.
    const stuck = new BackupSlots({ maxConcurrent: 1, jitterSeconds: 300 }, { now: () => now });
    stuck.expect(run('ns/stuck', at(3)));
    now = at(3).getTime() + expectGraceMs - 1;
    assert.equal(stuck.request(run('ns/later', at(4)), 'ns/later-job', new Set()).granted, false);
    now += 2;
    assert.equal(stuck.request(run('ns/later', at(4)), 'ns/later-job', new Set()).granted, true);
  });

  it('expecting a run that asked already changes nothing; a new run of the backup replaces the old one', () => {
    const now = at(10).getTime();
    const slots = new BackupSlots({ maxConcurrent: 1, jitterSeconds: 300 }, { now: () => now });
    slots.request(run('ns/a', at(3)), 'ns/a-job', new Set(['x/busy']));
    slots.expect(run('ns/a', at(3)));
    assert.deepEqual(slots.queue(), ['ns/a']);
    slots.withdraw('ns/a');
    assert.deepEqual(slots.queue(), []);
  });

  it('grants nothing while held (a new leader’s first pass), then in queue order', () => {
    let now = at(10).getTime();
    const slots = new BackupSlots({ maxConcurrent: 1, jitterSeconds: 300 }, { now: () => now });
    slots.holdUntil(now + 5_000);
    // The latest in line asks first, as the first pass of a new leader may have it.
    assert.deepEqual(slots.request(run('ns/b', at(8)), 'ns/b-job', new Set()), { granted: false, position: 1, length: 1 });
    assert.deepEqual(slots.request(run('ns/a', at(2)), 'ns/a-job', new Set()), { granted: false, position: 1, length: 2 });
    now += 5_000;
    assert.equal(slots.request(run('ns/b', at(8)), 'ns/b-job', new Set()).granted, false);
    assert.equal(slots.request(run('ns/a', at(2)), 'ns/a-job', new Set()).granted, true);
  });
});
