import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findLeftovers, type StoredObject, type StoredUpload } from './leftovers.ts';

const now = new Date('2026-12-02T12:00:00Z');
const hour = 3_600_000;
const at = (hoursAgo: number): Date => new Date(now.getTime() - hoursAgo * hour);
const object = (key: string, hoursAgo: number): StoredObject => ({ key, lastModified: at(hoursAgo) });
const upload = (key: string, hoursAgo: number, uploadId = `u-${key}`): StoredUpload => ({ key, uploadId, initiated: at(hoursAgo) });

describe('findLeftovers', () => {
  const objects = [
    // complete: a manifest after its data
    object('20261201T030000Z/data.sql.gz', 33),
    object('20261201T030000Z/manifest.json', 33),
    // interrupted long ago: data only
    object('20261130T030000Z/data.sql.gz', 57),
    // interrupted, two files, one written recently (within the deadline)
    object('20261202T030000Z/data.sql.gz', 9),
    object('20261202T030000Z/data.sql.gz.partial', 0.5),
    // interrupted an hour and a half ago
    object('20261202T100000Z/data.sql.zst', 1.5),
    // not a run folder: left alone
    object('notes.txt', 100),
    object('other/data.sql.gz', 100),
  ];

  it('names the run folders without a manifest that nothing wrote to for longer than the deadline, oldest first', () => {
    const found = findLeftovers(objects, [], { now, deadlineMs: hour });
    assert.deepEqual(found.runs, [
      { id: '20261130T030000Z', keys: ['20261130T030000Z/data.sql.gz'] },
      { id: '20261202T100000Z', keys: ['20261202T100000Z/data.sql.zst'] },
    ]);
  });

  it('leaves a run that may still be writing: a busy one, or one written to within the deadline', () => {
    const found = findLeftovers(objects, [], { now, deadlineMs: 2 * hour, busy: new Set(['20261130T030000Z']) });
    assert.deepEqual(found.runs, []);
    const longer = findLeftovers(objects, [], { now, deadlineMs: 0.25 * hour });
    assert.deepEqual(longer.runs.map((r) => r.id), ['20261130T030000Z', '20261202T030000Z', '20261202T100000Z']);
    assert.deepEqual(longer.runs[1]?.keys, ['20261202T030000Z/data.sql.gz', '20261202T030000Z/data.sql.gz.partial']);
  });

  it('never names a complete run, however old', () => {
    const found = findLeftovers(objects, [], { now, deadlineMs: 0 });
    assert.ok(!found.runs.some((r) => r.id === '20261201T030000Z'));
  });

  it('names uploads in run folders started longer ago than the deadline and not busy, complete runs included', () => {
    const uploads = [
      upload('20261201T030000Z/data.sql.gz', 33),
      upload('20261202T100000Z/data.sql.zst', 1.5),
      upload('20261202T113000Z/data.sql.gz', 0.5),
      upload('20261130T030000Z/data.sql.gz', 57),
      upload('stray/key', 100),
    ];
    const found = findLeftovers([], uploads, { now, deadlineMs: hour, busy: new Set(['20261130T030000Z']) });
    assert.deepEqual(found.uploads.map((u) => u.key), ['20261201T030000Z/data.sql.gz', '20261202T100000Z/data.sql.zst']);
  });

  it('refuses a negative deadline', () => {
    assert.throws(() => findLeftovers([], [], { now, deadlineMs: -1 }), /deadline is a number of milliseconds ≥ 0, not -1/);
  });
});
