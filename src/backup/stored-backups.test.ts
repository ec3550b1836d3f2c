import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidManifestError } from './manifest.ts';
import { listedBackupOf, runsWithManifest, type StoredBackupKind } from './stored-backups.ts';

const id = '20261202T030000Z';
const path = `site-a/nightly/${id}`;

/** Manifests as flightdeck-backup's jq templates write them. */
const logical = {
  formatVersion: 1,
  id,
  databases: ['site_a'],
  compression: 'gzip',
  encrypted: false,
  dataFile: 'data.sql.gz',
  sizeBytes: 1234,
  sha256: 'a'.repeat(64),
  gtidPosition: '0-1-42',
  binlogPosition: 'mariadb-bin.000002:900',
  startTime: '2026-12-02T03:00:05Z',
  completionTime: '2026-12-02T03:00:09Z',
  tablesFromDumpSnapshot: true,
  tables: [{ database: 'site_a', table: 'posts', rows: 3, checksum: '17' }],
};
const physical = {
  formatVersion: 1,
  kind: 'physical',
  id,
  compression: 'zstd',
  encrypted: false,
  dataFile: 'data.xbstream.zst',
  sizeBytes: 99_000,
  streamBytes: 400_000,
  sha256: 'b'.repeat(64),
  gtidPosition: '0-1-77',
  binlogPosition: 'mariadb-bin.000004:123',
  sourceInstance: 'shop-1',
  sourceRole: 'reader',
  startTime: '2026-12-02T03:00:05Z',
  completionTime: '2026-12-02T03:01:00Z',
};
const files = {
  formatVersion: 1,
  kind: 'files',
  id,
  compression: 'zstd',
  encrypted: true,
  dataFile: 'files.tar.zst.enc',
  sizeBytes: 5000,
  sha256: 'c'.repeat(64),
  fileCount: 12,
  contentBytes: 8000,
  contentSha256: 'd'.repeat(64),
  startTime: '2026-12-02T03:00:05Z',
  completionTime: '2026-12-02T03:00:40Z',
};

describe('stored backups read back from their manifests', () => {
  it('lists the runs whose folder holds manifest.json, newest first, and nothing else', () => {
    const keys = [
      '20261201T030000Z/data.sql.gz',
      '20261201T030000Z/manifest.json',
      '20261203T030000Z/manifest.json',
      // An interrupted run: data without manifest is no backup.
      '20261202T030000Z/data.sql.gz',
      // Not a run folder, too deep, or no real time: not ours.
      'notes/manifest.json',
      '20261204T030000Z/old/manifest.json',
      '20260231T030000Z/manifest.json',
      'manifest.json',
    ];
    assert.deepEqual(runsWithManifest(keys), ['20261203T030000Z', '20261201T030000Z']);
    assert.deepEqual(runsWithManifest([]), []);
  });

  it('gives each kind its status entry', () => {
    assert.deepEqual(listedBackupOf(JSON.stringify(logical), 'database', id, path), {
      id,
      time: '2026-12-02T03:00:00.000Z',
      completionTime: '2026-12-02T03:00:09Z',
      path,
      sizeBytes: 1234,
      sha256: 'a'.repeat(64),
      gtidPosition: '0-1-42',
      databases: ['site_a'],
    });
    assert.deepEqual(listedBackupOf(JSON.stringify(physical), 'database', id, path), {
      id,
      time: '2026-12-02T03:00:00.000Z',
      completionTime: '2026-12-02T03:01:00Z',
      path,
      sizeBytes: 99_000,
      sha256: 'b'.repeat(64),
      gtidPosition: '0-1-77',
    });
    assert.deepEqual(listedBackupOf(JSON.stringify(files), 'files', id, path), {
      id,
      time: '2026-12-02T03:00:00.000Z',
      completionTime: '2026-12-02T03:00:40Z',
      path,
      sizeBytes: 5000,
      sha256: 'c'.repeat(64),
      fileCount: 12,
      contentBytes: 8000,
      contentSha256: 'd'.repeat(64),
    });
    // A dump without a binary log has no position to show.
    assert.equal('gtidPosition' in listedBackupOf(JSON.stringify({ ...logical, gtidPosition: '', binlogPosition: ':' }), 'database', id, path), false);
  });

  it('refuses, saying why, what a restore of that kind would refuse', () => {
    const cases: [string, StoredBackupKind, unknown, RegExp][] = [
      ['a files archive in a MySQLBackup folder', 'database', files, /a files backup \(VolumeBackup\), not a database backup/],
      ['a dump in a VolumeBackup folder', 'files', logical, /kind missing is not files/],
      ['a physical backup in a VolumeBackup folder', 'files', physical, /kind "physical" is not files/],
      ['a manifest copied from another run', 'database', { ...logical, id: '20261201T030000Z' }, /not the run's own id/],
      ['a physical one copied from another run', 'database', { ...physical, id: '20261201T030000Z' }, /not the run's own id/],
      ['an unknown kind', 'database', { ...logical, kind: 'snapshot' }, /kind "snapshot" is not logical, physical or files/],
      ['a newer format', 'database', { ...physical, formatVersion: 2 }, /format 2 is not 1/],
      ['a physical one without a checksum', 'database', { ...physical, sha256: 'nope' }, /sha256/],
      ['a physical one with a broken position', 'database', { ...physical, gtidPosition: '0-1' }, /gtidPosition/],
      ['a physical one with a negative size', 'database', { ...physical, sizeBytes: -1 }, /sizeBytes/],
      ['a dump missing its tables', 'database', { ...logical, tables: undefined }, /tables must be a list/],
      ['an array', 'database', [], /not a JSON object/],
    ];
    for (const [what, kind, manifest, message] of cases) {
      assert.throws(() => listedBackupOf(JSON.stringify(manifest), kind, id, path), (error: unknown) => error instanceof InvalidManifestError && message.test(error.message) && error.message.includes(path), what);
    }
    assert.throws(() => listedBackupOf('{', 'database', id, path), /not JSON/);
  });
});
