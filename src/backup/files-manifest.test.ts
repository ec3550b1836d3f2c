import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { filesDataFileName, InvalidManifestError, parseFilesManifest } from './manifest.ts';

const good = {
  formatVersion: 1,
  kind: 'files',
  id: '20261202T030000Z',
  compression: 'zstd',
  encrypted: true,
  dataFile: 'files.tar.zst.enc',
  sizeBytes: 21_000_000,
  sha256: 'a'.repeat(64),
  fileCount: 312,
  contentBytes: 22_500_000,
  contentSha256: 'b'.repeat(64),
  startTime: '2026-12-02T03:00:05Z',
  completionTime: '2026-12-02T03:00:40Z',
};
const text = (changes: Record<string, unknown>): string => JSON.stringify({ ...good, ...changes });

describe('files manifests', () => {
  it('name the archive after compression and encryption', () => {
    assert.equal(filesDataFileName('gzip', false), 'files.tar.gz');
    assert.equal(filesDataFileName('zstd', true), 'files.tar.zst.enc');
    assert.equal(filesDataFileName('none', false), 'files.tar');
  });

  it('read back every field of a good manifest', () => {
    assert.deepEqual(parseFilesManifest(JSON.stringify(good), 'site/uploads/20261202T030000Z', '20261202T030000Z'), good);
    assert.equal(parseFilesManifest(text({ fileCount: 0, contentBytes: 0 }), 'empty').fileCount, 0);
  });

  it('refuse what is not a files backup, or does not add up, naming the field', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ kind: undefined }, /kind missing is not files/],
      [{ kind: 'logical' }, /kind "logical" is not files/],
      [{ formatVersion: 2 }, /format 2/],
      [{ dataFile: 'files.tar.gz' }, /should be files.tar.zst.enc/],
      [{ dataFile: '../etc/passwd' }, /dataFile/],
      [{ compression: 'bzip2' }, /compression "bzip2"/],
      [{ encrypted: 'yes' }, /encrypted must be true or false/],
      [{ fileCount: -1 }, /fileCount must be a whole number/],
      [{ contentBytes: 1.5 }, /contentBytes must be a whole number/],
      [{ sha256: 'A'.repeat(64) }, /sha256/],
      [{ contentSha256: 'b'.repeat(63) }, /contentSha256/],
      [{ completionTime: '2026-12-02T02:59:00Z' }, /before startTime/],
      [{ id: '20260231T000000Z' }, /names no real time/],
    ];
    for (const [changes, message] of cases) {
      assert.throws(() => parseFilesManifest(text(changes), 'x'), (error: unknown) => error instanceof InvalidManifestError && message.test(error.message), JSON.stringify(changes));
    }
    assert.throws(() => parseFilesManifest(JSON.stringify(good), 'x', '20261203T030000Z'), /not the run's own id/);
    assert.throws(() => parseFilesManifest('[]', 'x'), /not a JSON object/);
    assert.throws(() => parseFilesManifest('{', 'x'), /not JSON/);
  });
});
