import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  backupFolder,
  dataFileName,
  formatRunId,
  InvalidManifestError,
  isRunId,
  maxManifestBytes,
  parseManifest,
  parseRunFolder,
  parseRunId,
  runFolder,
  runPath,
} from './manifest.ts';

describe('run ids', () => {
  it('are the UTC due time, YYYYMMDDTHHMMSSZ, and read back', () => {
    assert.equal(formatRunId(new Date('2026-12-02T03:00:00Z')), '20261202T030000Z');
    assert.equal(formatRunId(new Date('2026-12-02T03:00:59.999Z')), '20261202T030059Z');
    assert.equal(parseRunId('20261202T030000Z').toISOString(), '2026-12-02T03:00:00.000Z');
    assert.equal(parseRunId('20280229T235959Z').toISOString(), '2028-02-29T23:59:59.000Z');
  });

  it('refuse what is not an id, or names no real time', () => {
    for (const id of ['2026-12-02T03:00:00Z', '20261202T030000', '20261202t030000z', '20260231T000000Z', '20261202T246000Z', '', '../20261202T030000Z']) {
      assert.throws(() => parseRunId(id), RangeError, id);
      assert.equal(isRunId(id), false, id);
    }
    assert.throws(() => formatRunId(new Date(Number.NaN)), /valid time/);
  });
});

describe('paths in a target', () => {
  it('a run lives at <prefix>/<namespace>/<backup>/<id>', () => {
    assert.equal(runFolder('site-a', 'nightly', '20261202T030000Z'), 'site-a/nightly/20261202T030000Z');
    assert.equal(runPath('backups/prod', 'site-a', 'nightly', '20261202T030000Z'), 'backups/prod/site-a/nightly/20261202T030000Z');
    assert.equal(runPath('/backups/', 'site-a', 'nightly', '20261202T030000Z'), 'backups/site-a/nightly/20261202T030000Z');
    assert.equal(runPath(undefined, 'site-a', 'nightly', '20261202T030000Z'), 'site-a/nightly/20261202T030000Z');
    assert.equal(runPath('', 'site-a', 'nightly', '20261202T030000Z'), 'site-a/nightly/20261202T030000Z');
    assert.equal(backupFolder('p', 'site-a', 'nightly'), 'p/site-a/nightly');
  });

  it('nothing climbs out of the prefix', () => {
    assert.throws(() => runPath('a/../b', 'site-a', 'nightly', '20261202T030000Z'), /may not hold "." or ".." segments/);
    assert.throws(() => runFolder('..', 'nightly', '20261202T030000Z'), /namespace ".." cannot be a path segment/);
    assert.throws(() => runFolder('site-a', 'a/b', '20261202T030000Z'), /backup name "a\/b" cannot be a path segment/);
    assert.throws(() => runFolder('site-a', 'nightly', 'latest'), /is not a run id/);
  });

  it('a listed folder reads back as a run, or not at all', () => {
    assert.deepEqual(parseRunFolder('site-a/nightly/20261202T030000Z/'), { namespace: 'site-a', name: 'nightly', id: '20261202T030000Z' });
    for (const stray of ['site-a/nightly', 'site-a/nightly/tmp', 'x/site-a/nightly/20261202T030000Z', 'Site-A/nightly/20261202T030000Z']) {
      assert.equal(parseRunFolder(stray), undefined, stray);
    }
  });

  it('the data file is named by compression and encryption', () => {
    assert.equal(dataFileName('gzip', false), 'data.sql.gz');
    assert.equal(dataFileName('zstd', true), 'data.sql.zst.enc');
    assert.equal(dataFileName('none', false), 'data.sql');
    assert.equal(dataFileName('none', true), 'data.sql.enc');
  });
});

/** A manifest as flightdeck-backup's jq template writes it. */
const good = {
  formatVersion: 1,
  id: '20261202T030000Z',
  databases: ['site_a', 'shop'],
  compression: 'zstd',
  encrypted: true,
  dataFile: 'data.sql.zst.enc',
  sizeBytes: 5_000_000_000,
  sha256: 'a'.repeat(64),
  gtidPosition: '0-1-42,1-2-7',
  binlogPosition: 'mysql-bin.000003:1234',
  startTime: '2026-12-02T03:02:11Z',
  completionTime: '2026-12-02T03:04:20Z',
  tablesFromDumpSnapshot: true,
  tables: [
    { database: 'site_a', table: 'wp_posts', rows: 120, checksum: '3486128763' },
    { database: 'shop', table: 'orders', rows: 0, checksum: '0' },
  ],
};

describe('parseManifest', () => {
  it('reads a manifest as the backup Job writes it', () => {
    const manifest = parseManifest(JSON.stringify(good), 'site-a/nightly/20261202T030000Z', '20261202T030000Z');
    assert.deepEqual(manifest, good);
  });

  it('accepts a backup without a binary log, and ignores fields a later minor change adds', () => {
    const manifest = parseManifest(JSON.stringify({ ...good, gtidPosition: '', binlogPosition: ':', tablesFromDumpSnapshot: false, note: 'x' }), 'run');
    assert.equal(manifest.gtidPosition, '');
    assert.equal('note' in manifest, false);
  });

  const broken: [string, unknown, RegExp][] = [
    ['not JSON', 'not json', /not JSON/],
    ['an array', [], /not a JSON object/],
    ['another format', { ...good, formatVersion: 2 }, /format 2 is not 1/],
    ['an id of another run', { ...good, id: '20261201T030000Z' }, /id 20261201T030000Z is not the run's own id 20261202T030000Z/],
    ['an id of no real time', { ...good, id: '20261232T030000Z' }, /names no real time/],
    ['no databases', { ...good, databases: [] }, /databases must list 1 to 4096 names/],
    ['a hostile database name', { ...good, databases: ['x`; DROP DATABASE mysql; --'] }, /not a database name/],
    ['a database twice', { ...good, databases: ['a', 'a'], tables: [] }, /names one database twice/],
    ['an unknown compression', { ...good, compression: 'bzip2' }, /compression "bzip2" is not one of gzip, zstd, none/],
    ['a data file elsewhere', { ...good, dataFile: 'data.sql/../../../etc/passwd' }, /dataFile .* should be data.sql.zst.enc/],
    ['a data file that hides encryption', { ...good, dataFile: 'data.sql.zst' }, /should be data.sql.zst.enc for compression zstd, encrypted/],
    ['encryption as text', { ...good, encrypted: 'yes' }, /encrypted must be true or false/],
    ['a negative size', { ...good, sizeBytes: -1 }, /sizeBytes must be a whole number ≥ 0/],
    ['a fractional size', { ...good, sizeBytes: 1.5 }, /sizeBytes must be a whole number ≥ 0/],
    ['a size as text', { ...good, sizeBytes: '12' }, /sizeBytes must be a whole number ≥ 0/],
    ['an upper-case checksum', { ...good, sha256: 'A'.repeat(64) }, /sha256 .* is not valid/],
    ['a short checksum', { ...good, sha256: 'abc' }, /sha256 .* is not valid/],
    ['a GTID position with SQL in it', { ...good, gtidPosition: "0-1-2'; DROP" }, /gtidPosition .* is not valid/],
    ['a completion before the start', { ...good, completionTime: '2026-12-02T03:00:00Z' }, /completionTime .* is before startTime/],
    ['a time that is not ISO', { ...good, startTime: 'yesterday' }, /startTime "yesterday" is not valid/],
    ['tables not a list', { ...good, tables: {} }, /tables must be a list/],
    ['a table of a database not in the backup', { ...good, tables: [{ database: 'other', table: 't', rows: 1, checksum: '1' }] }, /is not one of the backup's databases/],
    ['a table twice', { ...good, tables: [good.tables[0], good.tables[0]] }, /lists site_a.wp_posts twice/],
    ['a table name with a control character', { ...good, tables: [{ database: 'shop', table: 'a\nb', rows: 1, checksum: '1' }] }, /is not a table name/],
    ['a checksum that is not a number', { ...good, tables: [{ database: 'shop', table: 't', rows: 1, checksum: '1; x' }] }, /is not a CHECKSUM TABLE value/],
    ['negative rows', { ...good, tables: [{ database: 'shop', table: 't', rows: -3, checksum: '1' }] }, /tables\[0\].rows must be a whole number ≥ 0/],
  ];
  for (const [what, value, message] of broken) {
    it(`refuses ${what}`, () => {
      const text = typeof value === 'string' ? value : JSON.stringify(value);
      assert.throws(
        () => parseManifest(text, 'site-a/nightly/20261202T030000Z', '20261202T030000Z'),
        (error: unknown) => error instanceof InvalidManifestError && message.test(error.message) && error.message.startsWith('manifest.json of site-a/nightly/20261202T030000Z: '),
      );
    });
  }

  it('refuses an oversized manifest without parsing it', () => {
    assert.throws(() => parseManifest(' '.repeat(maxManifestBytes + 1), 'run'), /larger than/);
  });
});
