// The physical backup Job: what the builder gives the pod, which instance it
// copies, and the Job's script (test/env/images/mariadb/flightdeck-backup.sh,
// physical-backup and physical-fetch) run as processes against the real donor
// endpoint handler (seed.ts donorListenScript under socat), with a stand-in
// for mariadb-backup that streams a directory in mbstream format — so that
// the protocol, compression, encryption, checksums, the manifest written
// last, and the refusals are exercised without a server. The copy itself
// (mariadb-backup on a real server, prepared and started) is the e2e test's.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { MySQLClusterStatus } from '../../api/mysqlcluster.ts';
import { clusterIntent } from '../../api/normalize.ts';
import { clusterNames } from '../cluster/managed/builders/names.ts';
import { donorListenScript, seedMarkers, seedScript } from '../cluster/managed/builders/seed.ts';
import { refusedExitCode, type JobManifest } from './job.ts';
import { physicalBackupDonor } from './physical-donor.ts';
import { backupMethodLabel, physicalBackupJob, type PhysicalBackupJobInput } from './physical-job.ts';

const repoRoot = join(import.meta.dirname, '../../..');
const script = join(repoRoot, 'test/env/images/mariadb/flightdeck-backup.sh');

const intent = clusterIntent({ apiVersion: 'flightdeck.t7.io/v1', kind: 'MySQLCluster', metadata: { name: 'db', namespace: 'shop' }, spec: { readerCount: 2, size: '1Gi' } });
assert.ok(intent.managed);
const names = clusterNames('db', intent.managed);

const base: PhysicalBackupJobInput = {
  owner: { kind: 'MySQLBackup', name: 'nightly', namespace: 'shop', uid: 'uid-1' },
  image: 'flightdeck.local/mariadb:10.11',
  names,
  donor: { instance: 'db-2', role: 'reader', reason: 'copied from reader db-2' },
  target: { s3: { endpoint: 'https://s3.example.com', bucket: 'backups', prefix: 'agency', credentialsSecret: { name: 's3-creds' } } },
  runPath: 'shop/nightly/20261202T030000Z',
  runId: '20261202T030000Z',
  compression: 'zstd',
  activeDeadlineSeconds: 1800,
};

interface Container {
  command: string[];
  env: { name: string; value?: string; valueFrom?: { secretKeyRef: { name: string; key: string } } }[];
  securityContext: Record<string, unknown>;
  resources: { limits?: Record<string, string> };
}

function containerOf(job: JobManifest): Container {
  const containers = job.spec.template.spec.containers as Container[];
  assert.equal(containers.length, 1);
  const [only] = containers;
  assert.ok(only);
  return only;
}

describe('physical backup Job', () => {
  const job = physicalBackupJob(base);
  const container = containerOf(job);
  const vars = Object.fromEntries(container.env.map((e) => [e.name, e.value ?? `secret:${e.valueFrom?.secretKeyRef.name}/${e.valueFrom?.secretKeyRef.key}`]));

  it('is a backup Job of the MySQLBackup like a logical one, marked physical', () => {
    assert.equal(job.metadata.name, 'nightly-20261202t030000z');
    assert.equal(job.metadata.labels['flightdeck.t7.io/backup'], 'nightly');
    assert.equal(job.metadata.labels[backupMethodLabel], 'physical');
    assert.deepEqual(job.spec.template.metadata.labels, job.metadata.labels);
    assert.equal(job.metadata.ownerReferences[0]?.uid, 'uid-1');
    assert.deepEqual(container.command, ['flightdeck-backup', 'physical-backup']);
  });

  it('gets exactly the replication password of the credentials Secret, no other secret but the store keys, and no token', () => {
    const secrets = container.env.filter((e) => e.valueFrom !== undefined).map((e) => [e.name, e.valueFrom?.secretKeyRef.name, e.valueFrom?.secretKeyRef.key]);
    assert.deepEqual(secrets, [
      ['FLIGHTDECK_SEED_SECRET', 'db-credentials', 'replication-password'],
      ['RCLONE_CONFIG_TARGET_ACCESS_KEY_ID', 's3-creds', 'AWS_ACCESS_KEY_ID'],
      ['RCLONE_CONFIG_TARGET_SECRET_ACCESS_KEY', 's3-creds', 'AWS_SECRET_ACCESS_KEY'],
    ]);
    assert.ok(!job.spec.template.spec.volumes.some((v) => v.secret?.secretName === 'db-credentials'));
    const pod = job.spec.template.spec;
    assert.equal(pod.automountServiceAccountToken, false);
    assert.deepEqual(container.securityContext, { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    assert.equal(container.resources.limits?.memory, '1Gi');
    assert.equal(job.spec.activeDeadlineSeconds, 1800);
    assert.equal(job.spec.backoffLimit, 0);
    assert.equal(physicalBackupJob({ ...base, attempt: 2 }).metadata.name, 'nightly-20261202t030000z-2');
  });

  it("reaches the donor's endpoint through the headless Service and names it for the manifest", () => {
    assert.equal(vars.DONOR_HOST, 'db-2.db-instances');
    assert.equal(vars.DONOR_PORT, '3307');
    assert.equal(vars.DONOR_INSTANCE, 'db-2');
    assert.equal(vars.DONOR_ROLE, 'reader');
    assert.equal(vars.LOCATION, 'target:backups/agency/shop/nightly/20261202T030000Z');
    assert.equal(vars.BACKUP_COMPRESSION, 'zstd');
    assert.ok(!('ENCRYPTION_KEY_FILE' in vars));
    const encrypted = physicalBackupJob({ ...base, encryptionKey: { secretName: 'backup-key', key: 'key' } });
    assert.ok(containerOf(encrypted).env.some((e) => e.name === 'ENCRYPTION_KEY_FILE' && e.value === '/etc/flightdeck/encryption/key'));
    assert.deepEqual(encrypted.spec.template.spec.volumes.find((v) => v.name === 'encryption-key')?.secret?.secretName, 'backup-key');
  });
});

describe('physical backup donor', () => {
  type Instance = NonNullable<MySQLClusterStatus['instanceStatuses']>[number];
  const writer: Instance = { name: 'db-0', index: 0, role: 'Writer', ready: true, gtidPosition: '0-1-100' };
  const reader = (index: number, gtid: string, more: Partial<Instance> = {}): Instance => ({
    name: `db-${index}`,
    index,
    role: 'Reader',
    ready: true,
    ioThreadRunning: true,
    sqlThreadRunning: true,
    gtidPosition: gtid,
    ...more,
  });

  it('takes the most advanced healthy reader', () => {
    const choice = physicalBackupDonor({ currentPrimary: 'db-0', instanceStatuses: [writer, reader(1, '0-1-90'), reader(2, '0-1-99')] });
    assert.deepEqual(choice, { instance: 'db-2', role: 'reader', reason: 'copied from reader db-2, the most advanced healthy reader of 2' });
  });

  it('breaks a tie by the lower index', () => {
    const choice = physicalBackupDonor({ currentPrimary: 'db-0', instanceStatuses: [writer, reader(2, '0-1-99'), reader(1, '0-1-99')] });
    assert.ok('instance' in choice && choice.instance === 'db-1');
  });

  it('passes over readers that are not ready, have a problem or a stopped thread', () => {
    const choice = physicalBackupDonor({
      currentPrimary: 'db-0',
      instanceStatuses: [writer, reader(1, '0-1-100', { ready: false }), reader(2, '0-1-100', { problem: 'errant transactions' }), reader(3, '0-1-100', { sqlThreadRunning: false }), reader(4, '0-1-50')],
    });
    assert.ok('instance' in choice && choice.instance === 'db-4');
  });

  it('takes the writer when no reader is healthy, and says so', () => {
    assert.deepEqual(physicalBackupDonor({ currentPrimary: 'db-0', instanceStatuses: [writer, reader(1, '0-1-100', { ready: false })] }), {
      instance: 'db-0',
      role: 'writer',
      reason: 'copied from the writer db-0: no reader is healthy',
    });
    const diverged = physicalBackupDonor({ currentPrimary: 'db-0', instanceStatuses: [writer, reader(1, '0-1-100'), reader(2, '0-2-100')] });
    assert.ok('role' in diverged && diverged.role === 'writer' && /diverged/.test(diverged.reason));
  });

  it('has none before the cluster has a writer', () => {
    assert.deepEqual(physicalBackupDonor(undefined), { problem: 'the cluster has no writer yet' });
  });
});

// ------------------------------------------------------------- the script

const work = mkdtempSync(join(tmpdir(), 'flightdeck-physical-test-'));
const secret = 'the replication password';
const copyDir = join(work, 'copy');
const fakeBin = join(work, 'bin');
const store = join(work, 'store');
let donorPort = 0;
let donor: ChildProcess | undefined;

/** A stand-in for mariadb-backup --backup --stream: streams $FAKE_COPY in mbstream format, or breaks off after the first file with FAKE_CUT. */
const fakeMariadbBackup = `#!/bin/bash
cd "$FAKE_COPY" || exit 1
if [ -n "\${FAKE_CUT:-}" ]; then mbstream -c ibdata1; echo "mariadb-backup: cut off" >&2; exit 1; fi
mbstream -c ibdata1 shop/t.ibd xtrabackup_checkpoints xtrabackup_binlog_info
echo "completed OK!" >&2
`;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (typeof address === 'object' && address !== null) resolve(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}

async function startDonor(env: Record<string, string> = {}): Promise<void> {
  donorPort = await freePort();
  donor = spawn('bash', ['--norc', '--noprofile', '-c', donorListenScript()], {
    env: { PATH: `${fakeBin}:${process.env.PATH ?? '/usr/bin:/bin'}`, TMPDIR: work, FLIGHTDECK_DONOR_PORT: String(donorPort), FLIGHTDECK_SEED_SECRET: secret, MARIADB_ROOT_PASSWORD: 'r', FLIGHTDECK_DATADIR: copyDir, FAKE_COPY: copyDir, ...env },
    detached: true,
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  for (let i = 0; i < 100; i++) {
    if (spawnSync('bash', ['-c', `exec 3<>/dev/tcp/127.0.0.1/${donorPort}`]).status === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('the donor endpoint did not listen');
}

function stopDonor(): void {
  if (donor?.pid !== undefined) {
    try {
      process.kill(-donor.pid, 'SIGTERM');
    } catch (error) {
      // Gone already: nothing to stop.
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
  }
  donor = undefined;
}

interface Run {
  readonly status: number | null;
  readonly result: Record<string, unknown>;
  readonly stdout: string;
  readonly stderr: string;
}

/** The script with the Job builder's environment, pointed at the local donor and a local directory as the store. */
function runScript(args: string[], env: Record<string, string>): Run {
  const resultFile = join(work, `result-${Math.random()}`);
  const result = spawnSync('bash', [script, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', TMPDIR: work, HOME: work, RESULT_FILE: resultFile, RCLONE_CONFIG_TARGET_TYPE: 'local', ...env },
    timeout: 60_000,
  });
  let parsed: Record<string, unknown> = {};
  if (existsSync(resultFile)) parsed = JSON.parse(readFileSync(resultFile, 'utf8')) as Record<string, unknown>;
  return { status: result.status, result: parsed, stdout: result.stdout, stderr: result.stderr };
}

function backupEnv(runPath: string, more: Partial<PhysicalBackupJobInput> = {}): Record<string, string> {
  const job = physicalBackupJob({ ...base, target: { pvc: { claimName: 'unused' } }, runPath, runId: runPath.split('/').at(-1) ?? '', ...more });
  const env: Record<string, string> = {};
  for (const variable of containerOf(job).env) {
    if (variable.value !== undefined) env[variable.name] = variable.value;
  }
  delete env.RESULT_FILE;
  return { ...env, DONOR_HOST: '127.0.0.1', DONOR_PORT: String(donorPort), FLIGHTDECK_SEED_SECRET: secret, LOCATION: `target:${store}/${runPath}`, TMPDIR: work, HOME: work };
}

describe('physical backup script', () => {
  const keyFile = join(work, 'key');
  before(async () => {
    mkdirSync(join(copyDir, 'shop'), { recursive: true });
    mkdirSync(fakeBin);
    mkdirSync(store);
    writeFileSync(join(copyDir, 'ibdata1'), Buffer.alloc(3 * 1024 * 1024, 7));
    writeFileSync(join(copyDir, 'shop/t.ibd'), Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 31) % 251)));
    writeFileSync(join(copyDir, 'xtrabackup_checkpoints'), 'backup_type = full-backuped\n');
    writeFileSync(join(copyDir, 'xtrabackup_binlog_info'), 'mariadb-bin.000003\t4711\t0-1-42,1-2-7\n');
    writeFileSync(join(fakeBin, 'mariadb-backup'), fakeMariadbBackup, { mode: 0o755 });
    writeFileSync(keyFile, 'an encryption key', { mode: 0o600 });
    await startDonor();
  });
  after(() => {
    stopDonor();
    rmSync(work, { recursive: true, force: true });
  });

  function sameFiles(dir: string): void {
    for (const file of ['ibdata1', 'shop/t.ibd', 'xtrabackup_checkpoints', 'xtrabackup_binlog_info']) {
      assert.deepEqual(readFileSync(join(dir, file)), readFileSync(join(copyDir, file)), file);
    }
  }

  for (const [compression, encrypted] of [['zstd', false], ['gzip', true], ['none', false]] as const) {
    it(`stores the donor's stream (${compression}${encrypted ? ', encrypted' : ''}) with a manifest, and fetches it back byte for byte`, () => {
      const runPath = `shop/${compression}/20261202T030000Z`;
      const env = { ...backupEnv(runPath, { compression }), ...(encrypted ? { ENCRYPTION_KEY_FILE: keyFile } : {}) };
      const backup = runScript(['physical-backup'], env);
      assert.equal(backup.status, 0, backup.stderr);
      const result = JSON.parse(backup.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
      assert.equal(result.result, 'Completed');
      assert.equal(result.gtidPosition, '0-1-42,1-2-7');
      assert.equal(result.sourceInstance, 'db-2');
      const extension = { zstd: '.zst', gzip: '.gz', none: '' }[compression] + (encrypted ? '.enc' : '');
      const folder = join(store, runPath);
      assert.deepEqual(readdirSync(folder).sort(), [`data.xbstream${extension}`, 'manifest.json']);
      const manifest = JSON.parse(readFileSync(join(folder, 'manifest.json'), 'utf8')) as Record<string, unknown>;
      const stored = readFileSync(join(folder, `data.xbstream${extension}`));
      assert.equal(manifest.kind, 'physical');
      assert.equal(manifest.sizeBytes, stored.length);
      assert.equal(manifest.sha256, spawnSync('sha256sum', { input: stored }).stdout.toString().split(' ')[0]);
      assert.equal(manifest.binlogPosition, 'mariadb-bin.000003:4711');
      assert.equal(manifest.sourceRole, 'reader');
      assert.equal(manifest.encrypted, encrypted);
      assert.ok(typeof manifest.streamBytes === 'number' && manifest.streamBytes > 3 * 1024 * 1024);
      // Stored as mbstream only without compression (encryption comes only with gzip here).
      assert.equal(stored.subarray(0, 8).toString() === 'XBSTCK01', compression === 'none');

      const into = join(work, `fetched-${compression}`);
      mkdirSync(into);
      const fetch = runScript(['physical-fetch', into], { LOCATION: `target:${store}/${runPath}`, ...(encrypted ? { ENCRYPTION_KEY_FILE: keyFile } : {}) });
      assert.equal(fetch.status, 0, fetch.stderr);
      sameFiles(into);
    });
  }

  it('refuses a tampered object: ChecksumMismatch, exit 2', () => {
    const runPath = 'shop/tampered/20261202T030000Z';
    assert.equal(runScript(['physical-backup'], backupEnv(runPath, { compression: 'none' })).status, 0);
    const data = join(store, runPath, 'data.xbstream');
    const bytes = readFileSync(data);
    bytes[bytes.length - 1000] = (bytes[bytes.length - 1000] ?? 0) ^ 0xff;
    writeFileSync(data, bytes);
    const into = join(work, 'fetched-tampered');
    mkdirSync(into);
    const fetch = runScript(['physical-fetch', into], { LOCATION: `target:${store}/${runPath}` });
    assert.equal(fetch.status, refusedExitCode, fetch.stderr);
    assert.equal(fetch.result.reason, 'ChecksumMismatch');
  });

  it('refuses a run without manifest, a logical backup and an encrypted one without key', () => {
    const into = join(work, 'fetched-refused');
    mkdirSync(into);
    const missing = runScript(['physical-fetch', into], { LOCATION: `target:${store}/shop/nothing/20261202T030000Z` });
    assert.equal(missing.status, refusedExitCode);
    assert.equal(missing.result.reason, 'BackupNotFound');

    const logical = join(store, 'shop/logical/20261202T030000Z');
    mkdirSync(logical, { recursive: true });
    writeFileSync(join(logical, 'manifest.json'), JSON.stringify({ formatVersion: 1, id: '20261202T030000Z', dataFile: 'data.sql.gz', compression: 'gzip', sha256: 'a'.repeat(64) }));
    const refused = runScript(['physical-fetch', into], { LOCATION: `target:${logical}` });
    assert.equal(refused.status, refusedExitCode);
    assert.equal(refused.result.reason, 'InvalidBackup');
    assert.match(String(refused.result.message), /logical backup/);

    const noKey = runScript(['physical-fetch', into], { LOCATION: `target:${store}/shop/gzip/20261202T030000Z` });
    assert.equal(noKey.status, refusedExitCode);
    assert.equal(noKey.result.reason, 'KeyRequired');
    assert.deepEqual(readdirSync(into), []);
  });

  it('a logical restore refuses a physical backup', () => {
    const restore = runScript(['restore'], { LOCATION: `target:${store}/shop/zstd/20261202T030000Z`, DB_HOST: '127.0.0.1', DB_USER: 'x', DB_PASSWORD_FILE: keyFile });
    assert.equal(restore.status, refusedExitCode);
    assert.match(String(restore.result.message), /physical backup .* bootstrap a new managed cluster/);
  });

  it('stores nothing when the donor refuses the proof (exit 2) or its copy breaks off (no manifest)', async () => {
    const refusedPath = 'shop/refused/20261202T030000Z';
    const refused = runScript(['physical-backup'], { ...backupEnv(refusedPath), FLIGHTDECK_SEED_SECRET: 'a guess' });
    assert.equal(refused.status, refusedExitCode, refused.stderr);
    assert.equal(refused.result.reason, 'DonorRefused');
    assert.equal(existsSync(join(store, refusedPath)), false);

    stopDonor();
    await startDonor({ FAKE_CUT: '1' });
    const cutPath = 'shop/cut/20261202T030000Z';
    const cut = runScript(['physical-backup'], backupEnv(cutPath));
    assert.equal(cut.status, 1, cut.stderr);
    assert.match(String(cut.result.message), /incomplete/);
    assert.equal(existsSync(join(store, cutPath, 'manifest.json')), false);
    stopDonor();
    await startDonor();
  });
});

describe('seed script, bootstrap from a backup', () => {
  it('leaves a refused backup out of the data directory, starts nothing, and tries again at the next start', () => {
    const datadir = mkdtempSync(join(tmpdir(), 'flightdeck-bootstrap-datadir-'));
    try {
      const resultFile = join(datadir, '..', `bootstrap-result-${Math.random()}`);
      const env = {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        TMPDIR: tmpdir(),
        FLIGHTDECK_DATADIR: datadir,
        FLIGHTDECK_POD_INDEX: '0',
        FLIGHTDECK_SEED_SECRET: 's',
        MARIADB_ROOT_PASSWORD: 'r',
        FLIGHTDECK_BOOTSTRAP_LOCATION: `target:${tmpdir()}/flightdeck-no-such-backup/shop/x/20261202T030000Z`,
        RCLONE_CONFIG_TARGET_TYPE: 'local',
        FLIGHTDECK_BACKUP_COMMAND: script,
        FLIGHTDECK_RESULT_FILE: resultFile,
        FLIGHTDECK_ROOT_PASSWORD_HASH: `*${'A'.repeat(40)}`,
        FLIGHTDECK_INITDB_SQL: 'SELECT 1;',
      };
      const first = spawnSync('bash', ['--norc', '--noprofile', '-c', seedScript()], { encoding: 'utf8', env, timeout: 30_000 });
      assert.notEqual(first.status, 0);
      assert.match(first.stderr, /bootstrapping this new cluster from the physical backup/);
      assert.match(first.stderr, /nothing was started/);
      assert.equal((JSON.parse(readFileSync(resultFile, 'utf8')) as { reason: string }).reason, 'BackupNotFound');
      assert.deepEqual(readdirSync(datadir).sort(), [seedMarkers.bootstrapping, seedMarkers.seeding]);
      const again = spawnSync('bash', ['--norc', '--noprofile', '-c', seedScript()], { encoding: 'utf8', env, timeout: 30_000 });
      assert.match(again.stderr, /an earlier copy did not finish/);
      assert.match(again.stderr, /bootstrapping this new cluster from the physical backup/);
      rmSync(resultFile, { force: true });
    } finally {
      rmSync(datadir, { recursive: true, force: true });
    }
  });

  it('without bootstrapFrom, instance 0 with an empty data directory is still the entrypoint\'s', () => {
    const datadir = mkdtempSync(join(tmpdir(), 'flightdeck-bootstrap-datadir-'));
    try {
      const result = spawnSync('bash', ['--norc', '--noprofile', '-c', seedScript()], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', FLIGHTDECK_DATADIR: datadir, FLIGHTDECK_POD_INDEX: '0', FLIGHTDECK_SEED_SECRET: 's', MARIADB_ROOT_PASSWORD: 'r' },
      });
      assert.equal(result.status, 0, result.stderr);
      assert.deepEqual(readdirSync(datadir), []);
    } finally {
      rmSync(datadir, { recursive: true, force: true });
    }
  });
});
