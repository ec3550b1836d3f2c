// The files modes of the Jobs' script (flightdeck-backup files-backup and
// files-restore, test/env/images/mariadb/flightdeck-backup.sh) run as
// processes on real folders, writing to a local directory as a PVC target.
// A backup is proven by restoring it and comparing every entry (type, mode,
// owner, size, modification time, sha256 or link target) with the source;
// the manifest it writes is one the operator's parser accepts; a non-empty
// target is refused untouched; overwrite replaces; a tampered archive is
// refused before anything is extracted; a restore cut off while moving files
// into place is finished by the next attempt. Runs as root, as the Jobs do.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseFilesManifest } from '../../src/backup/manifest.ts';
import { repoRoot } from '../env/paths.ts';

const script = join(repoRoot, 'test/env/images/mariadb/flightdeck-backup.sh');
const dir = mkdtempSync(join(tmpdir(), 'flightdeck-files-script-'));
after(() => {
  rmSync(dir, { recursive: true, force: true });
});
const store = join(dir, 'store');
const source = join(dir, 'source');
const keyFile = join(dir, 'key');
writeFileSync(keyFile, 'a key of any bytes', { mode: 0o600 });
const runId = '20261202T030000Z';
const location = `target:${store}/site-a/uploads/${runId}`;

interface ScriptRun {
  readonly code: number;
  readonly result: Record<string, unknown>;
  readonly stderr: string;
}

function runScript(command: 'files-backup' | 'files-restore', env: Record<string, string>): Promise<ScriptRun> {
  const resultFile = join(dir, `result-${command}-${Date.now()}-${Math.random()}`);
  return new Promise((resolve) => {
    execFile(
      'bash',
      [script, command],
      { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', TMPDIR: dir, RESULT_FILE: resultFile, RCLONE_CONFIG_TARGET_TYPE: 'local', LOCATION: location, ...env }, maxBuffer: 16 * 1024 * 1024 },
      (error, _stdout, stderr) => {
        let result: Record<string, unknown>;
        try {
          result = JSON.parse(readFileSync(resultFile, 'utf8')) as Record<string, unknown>;
        } catch (readError) {
          result = { unreadable: String(readError) };
        }
        resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, result, stderr });
      },
    );
  });
}

/** Every entry below `root` (without a top-level lost+found and the staging folder), sorted, as one line each. */
function describeTree(root: string): string[] {
  const lines: string[] = [];
  const walk = (relative: string): void => {
    for (const name of readdirSync(join(root, relative))) {
      if (relative === '' && (name === 'lost+found' || name.startsWith('.flightdeck-restore'))) continue;
      const path = relative === '' ? name : `${relative}/${name}`;
      const full = join(root, path);
      const stat = lstatSync(full);
      const mode = (stat.mode & 0o7777).toString(8);
      if (stat.isSymbolicLink()) lines.push(`l ${path} -> ${readlinkSync(full)}`);
      else if (stat.isDirectory()) {
        lines.push(`d ${path} ${mode} ${stat.uid}:${stat.gid} ${Math.floor(stat.mtimeMs / 1000)}`);
        walk(path);
      } else if (stat.isFile()) {
        lines.push(`f ${path} ${stat.size} ${mode} ${stat.uid}:${stat.gid} ${Math.floor(stat.mtimeMs / 1000)} ${createHash('sha256').update(readFileSync(full)).digest('hex')}`);
      } else lines.push(`other ${path}`);
    }
  };
  walk('');
  return lines.sort();
}

/** A site's uploads: nested folders, files of many sizes, an empty one, links, an odd name, other owners and modes, an old time, a pipe. */
function fillSource(): void {
  mkdirSync(join(source, 'wp-content/uploads/2026/12'), { recursive: true });
  mkdirSync(join(source, 'deep/a/b/c'), { recursive: true });
  mkdirSync(join(source, 'lost+found'));
  writeFileSync(join(source, 'lost+found/#123'), 'file system debris');
  writeFileSync(join(source, 'empty.txt'), '');
  for (let i = 1; i <= 120; i++) {
    const folder = ['wp-content/uploads/2026/12', 'deep/a/b/c', '.'][i % 3] ?? '.';
    writeFileSync(join(source, folder, `file-${i}.bin`), createHash('sha512').update(String(i)).digest().toString('hex').repeat((i * 37) % 400));
  }
  writeFileSync(join(source, 'big.bin'), Buffer.alloc(5 * 1024 * 1024, 7));
  writeFileSync(join(source, 'file with spaces and ünïcödé – ok.txt'), 'héllo\n');
  writeFileSync(join(source, '.hidden'), 'dot file');
  symlinkSync('wp-content/uploads/2026', join(source, 'uploads-link'));
  symlinkSync('/does/not/exist', join(source, 'dangling-link'));
  chownSync(join(source, 'wp-content/uploads/2026/12/file-3.bin'), 33, 33);
  chmodSync(join(source, 'wp-content/uploads/2026/12/file-3.bin'), 0o600);
  chmodSync(join(source, 'deep/a'), 0o2775);
  utimesSync(join(source, 'deep/a/b/c/file-1.bin'), new Date('2020-01-02T03:04:05Z'), new Date('2020-01-02T03:04:05Z'));
  execFileSync('mkfifo', [join(source, 'a-pipe')]);
}

describe('flightdeck-backup files-backup and files-restore', () => {
  let expected: string[] = [];
  let made: Record<string, unknown> = {};

  it('backs up a folder into an encrypted zstd archive, manifest last, that the operator’s parser accepts', async () => {
    fillSource();
    const sourceTree = describeTree(source);
    expected = sourceTree.filter((line) => !line.startsWith('other ') && !line.startsWith('d lost+found') && !line.includes('lost+found/'));
    const run = await runScript('files-backup', { BACKUP_ID: runId, BACKUP_COMPRESSION: 'zstd', ENCRYPTION_KEY_FILE: keyFile, SOURCE_DIR: source });
    assert.equal(run.code, 0, run.stderr);
    made = run.result;
    assert.equal(made.result, 'Completed');
    assert.equal(made.fileCount, expected.length);
    const bytes = expected.filter((l) => l.startsWith('f ')).reduce((sum, l) => sum + Number(l.split(' ').at(-5)), 0);
    assert.equal(made.contentBytes, bytes);
    assert.deepEqual(readdirSync(join(store, 'site-a/uploads', runId)).sort(), ['files.tar.zst.enc', 'manifest.json']);
    const manifest = parseFilesManifest(readFileSync(join(store, 'site-a/uploads', runId, 'manifest.json'), 'utf8'), 'the run', runId);
    assert.equal(manifest.sha256, createHash('sha256').update(readFileSync(join(store, 'site-a/uploads', runId, 'files.tar.zst.enc'))).digest('hex'));
    assert.equal(manifest.contentSha256, made.contentSha256);
    assert.equal(manifest.fileCount, expected.length);
  });

  it('restores it into a new folder below the volume, every entry equal', async () => {
    const volume = join(dir, 'volume-1');
    mkdirSync(volume);
    const run = await runScript('files-restore', { ENCRYPTION_KEY_FILE: keyFile, VOLUME_ROOT: volume, TARGET_DIR: join(volume, 'site/uploads') });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.result.verified, true);
    assert.equal(run.result.contentSha256, made.contentSha256);
    assert.deepEqual(describeTree(join(volume, 'site/uploads')), expected);
    assert.deepEqual(readdirSync(join(volume, 'site')), ['uploads'], 'no staging folder is left');
    assert.equal((lstatSync(join(volume, 'site')).mode & 0o777).toString(8), '755');
  });

  it('refuses a non-empty target unchanged, and replaces it with overwrite, at the top of a volume', async () => {
    const volume = join(dir, 'volume-2');
    mkdirSync(join(volume, 'lost+found'), { recursive: true });
    writeFileSync(join(volume, 'index.php'), 'a site that is there');
    const before = describeTree(volume);
    const refused = await runScript('files-restore', { ENCRYPTION_KEY_FILE: keyFile, VOLUME_ROOT: volume, TARGET_DIR: volume });
    assert.equal(refused.code, 2);
    assert.equal(refused.result.reason, 'TargetNotEmpty');
    assert.match(String(refused.result.message), /holds 1 entries \(such as index\.php\); set overwrite/);
    assert.deepEqual(describeTree(volume), before);
    assert.deepEqual(readdirSync(volume).sort(), ['index.php', 'lost+found']);
    const replaced = await runScript('files-restore', { ENCRYPTION_KEY_FILE: keyFile, VOLUME_ROOT: volume, TARGET_DIR: volume, RESTORE_OVERWRITE: 'true' });
    assert.equal(replaced.code, 0, replaced.stderr);
    assert.deepEqual(describeTree(volume), expected);
    assert.ok(readdirSync(volume).includes('lost+found'), "the volume's lost+found stays");
  });

  it('refuses an archive whose sha256 is not the manifest’s before extracting anything, and a restore without the key', async () => {
    const volume = join(dir, 'volume-3');
    mkdirSync(volume);
    const noKey = await runScript('files-restore', { VOLUME_ROOT: volume, TARGET_DIR: volume });
    assert.equal(noKey.code, 2);
    assert.equal(noKey.result.reason, 'KeyRequired');
    const archive = join(store, 'site-a/uploads', runId, 'files.tar.zst.enc');
    const good = readFileSync(archive);
    const bad = Buffer.from(good);
    bad[bad.length - 100] = (bad[bad.length - 100] ?? 0) ^ 0xff;
    writeFileSync(archive, bad);
    try {
      const tampered = await runScript('files-restore', { ENCRYPTION_KEY_FILE: keyFile, VOLUME_ROOT: volume, TARGET_DIR: volume });
      assert.equal(tampered.code, 2);
      assert.equal(tampered.result.reason, 'ChecksumMismatch');
      assert.deepEqual(readdirSync(volume), []);
    } finally {
      writeFileSync(archive, good);
    }
  });

  it('finishes a restore that was cut off while moving files into place', async () => {
    // What an attempt leaves when its pod dies half-way through the moves: the
    // staging folder with its step, some entries moved, the rest still there.
    const done = join(dir, 'volume-4');
    mkdirSync(done);
    assert.equal((await runScript('files-restore', { ENCRYPTION_KEY_FILE: keyFile, VOLUME_ROOT: done, TARGET_DIR: done })).code, 0);
    const volume = join(dir, 'volume-5');
    const staging = join(volume, '.flightdeck-restore');
    mkdirSync(join(staging, 'data'), { recursive: true });
    for (const name of readdirSync(done)) renameSync(join(done, name), join(staging, 'data', name));
    const manifest = parseFilesManifest(readFileSync(join(store, 'site-a/uploads', runId, 'manifest.json'), 'utf8'), 'the run');
    writeFileSync(join(staging, 'archive-sha256'), manifest.sha256);
    writeFileSync(join(staging, 'stats'), `${manifest.fileCount} ${manifest.contentBytes} ${manifest.contentSha256}\n`);
    writeFileSync(join(staging, 'state'), 'moving-in');
    for (const name of ['wp-content', 'big.bin', 'empty.txt']) renameSync(join(staging, 'data', name), join(volume, name));
    const resumed = await runScript('files-restore', { ENCRYPTION_KEY_FILE: keyFile, VOLUME_ROOT: volume, TARGET_DIR: volume });
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal(resumed.result.verified, true);
    assert.deepEqual(describeTree(volume), expected);
    assert.ok(!readdirSync(volume).includes('.flightdeck-restore'));
    // A cut-off move of another backup is not finished in its name.
    mkdirSync(join(staging, 'data'), { recursive: true });
    writeFileSync(join(staging, 'archive-sha256'), 'f'.repeat(64));
    writeFileSync(join(staging, 'state'), 'moving-in');
    const other = await runScript('files-restore', { ENCRYPTION_KEY_FILE: keyFile, VOLUME_ROOT: volume, TARGET_DIR: volume, RESTORE_OVERWRITE: 'true' });
    assert.equal(other.code, 2);
    assert.equal(other.result.reason, 'RestoreConflict');
  });
});

describe('flightdeck-backup files-backup pruning a PVC-like directory (PRUNE_RUNS)', () => {
  const folder = join(store, 'site-a/pruned-files');
  const pruneSource = join(dir, 'prune-source');
  const storedRun = (id: string): void => {
    mkdirSync(join(folder, id), { recursive: true });
    writeFileSync(join(folder, id, 'files.tar.gz'), `archive of ${id}`);
    writeFileSync(join(folder, id, 'manifest.json'), JSON.stringify({ id, kind: 'files' }));
  };

  it('after its own manifest deletes exactly the named runs of its folder, refuses ids that are no run or its own, and reports both', async () => {
    mkdirSync(pruneSource, { recursive: true });
    writeFileSync(join(pruneSource, 'upload.jpg'), 'pixels');
    for (const id of ['20261201T030000Z', '20261202T030000Z', '20261203T030000Z']) storedRun(id);
    const own = '20261205T030000Z';
    const run = await runScript('files-backup', {
      LOCATION: `target:${folder}/${own}`,
      BACKUP_ID: own,
      SOURCE_DIR: pruneSource,
      PRUNE_RUNS: ['20261202T030000Z', '20261201T030000Z', '', '*', own, '20261301T030000Z/..'].join('\n'),
    });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.result.result, 'Completed');
    assert.deepEqual(run.result.pruned, ['20261202T030000Z', '20261201T030000Z']);
    assert.match(String(run.result.pruneError), /refused to prune \\\* \(not a run id\) 20261205T030000Z \(this run's own\) 20261301T030000Z\/\.\. \(not a run id\)$/);
    assert.deepEqual(readdirSync(folder).sort(), ['20261203T030000Z', own]);
    assert.deepEqual(readdirSync(join(folder, own)).sort(), ['files.tar.gz', 'manifest.json']);
    assert.equal(parseFilesManifest(readFileSync(join(folder, own, 'manifest.json'), 'utf8'), 'the run', own).id, own);
  });
});
