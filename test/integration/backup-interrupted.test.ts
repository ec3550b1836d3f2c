// Backups interrupted mid-upload, against a real mariadbd and a real S3 store
// (SeaweedFS), with the Job's script (flightdeck-backup.sh) run as a process
// the way a Job's container runs it, its upload slowed (rclone's bandwidth
// limit) so that the interruption lands in the middle of it:
// - the script's process group killed (a pod killed): the run folder holds no
//   object and no manifest, only an unfinished multipart upload;
// - the store frozen (SIGSTOP) until the upload times out: the script fails
//   retryably (exit 1, BackupFailed) with no manifest;
// in both cases the operator's cleanup (cleanUpRunFolder, as after a failed
// attempt) leaves nothing, and the retry of the same run succeeds and is
// restorable with equal rows and checksums. On a volume target, the retry's
// script removes what the killed attempt wrote, and older manifest-less runs.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import * as mariadb from 'mariadb';
import { cleanUpRunFolder } from '../../src/controllers/backup/cleanup.ts';
import { startMariaDB, stopMariaDB, type MariaDBInstance } from '../env/mariadb.ts';
import { startObjectStore, type ObjectStore } from '../env/object-store.ts';
import { repoRoot } from '../env/paths.ts';

const script = join(repoRoot, 'test/env/images/mariadb/flightdeck-backup.sh');
const dir = mkdtempSync(join(tmpdir(), 'flightdeck-backup-interrupted-'));
const volume = join(dir, 'pvc');
mkdirSync(volume);
const bucket = 'backups';
const password = 'interrupted-pass';
/** About 24 MiB of rows, stored uncompressed: at 4 MiB/s the upload takes seconds. */
const rows = 24 * 1024;
const slowUpload = { RCLONE_BWLIMIT: '4M' };

let server: MariaDBInstance | undefined;
let admin: mariadb.Connection | undefined;
let store: ObjectStore | undefined;

interface ScriptRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly result: Record<string, unknown>;
  readonly stderr: string;
}

interface RunningScript {
  readonly child: ChildProcess;
  readonly done: Promise<ScriptRun>;
}

/** Starts the script in a process group of its own (so it and its pipeline can be killed as a pod's container is). */
function startScript(env: Record<string, string>): RunningScript {
  const resultFile = join(dir, `result-${Date.now()}-${Math.random().toString(16).slice(2)}`);
  const child = spawn('bash', [script, 'backup'], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', TMPDIR: dir, RESULT_FILE: resultFile, ...env },
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const done = new Promise<ScriptRun>((resolve) => {
    child.on('close', (code, signal) => {
      let result: Record<string, unknown> = {};
      if (existsSync(resultFile)) result = JSON.parse(readFileSync(resultFile, 'utf8')) as Record<string, unknown>;
      resolve({ code, signal, result, stderr });
    });
  });
  return { child, done };
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) throw new Error('the script has no process id');
  process.kill(-child.pid, 'SIGKILL');
}

function started(): { server: MariaDBInstance; admin: mariadb.Connection; store: ObjectStore } {
  if (server === undefined || admin === undefined || store === undefined) throw new Error('the test environment did not start');
  return { server, admin, store };
}

function connectionEnv(): Record<string, string> {
  const passwordFile = join(dir, 'password');
  writeFileSync(passwordFile, password, { mode: 0o600 });
  const { server } = started();
  return { DB_HOST: server.host, DB_PORT: String(server.port), DB_USER: 'backup_big', DB_PASSWORD_FILE: passwordFile };
}

function s3Env(): Record<string, string> {
  const { store } = started();
  return {
    RCLONE_CONFIG_TARGET_TYPE: 's3',
    RCLONE_CONFIG_TARGET_PROVIDER: 'Other',
    RCLONE_CONFIG_TARGET_ENDPOINT: store.endpoint,
    RCLONE_CONFIG_TARGET_REGION: store.region,
    RCLONE_CONFIG_TARGET_FORCE_PATH_STYLE: 'true',
    RCLONE_CONFIG_TARGET_NO_CHECK_BUCKET: 'true',
    RCLONE_CONFIG_TARGET_ACCESS_KEY_ID: store.accessKeyId,
    RCLONE_CONFIG_TARGET_SECRET_ACCESS_KEY: store.secretAccessKey,
  };
}

function backupEnv(runId: string, location: string): Record<string, string> {
  return { ...connectionEnv(), LOCATION: location, BACKUP_ID: runId, BACKUP_DATABASES: 'big', BACKUP_COMPRESSION: 'none' };
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

/** Waits until the run's data upload is under way (a multipart upload with its first part stored). */
async function uploadUnderWay(prefix: string): Promise<void> {
  const client = started().store.client();
  try {
    await until(`an unfinished upload under ${prefix}`, 60_000, async () => ((await client.listMultipartUploads(bucket, { prefix })).length > 0 ? true : undefined));
  } finally {
    client.close();
  }
  // A part or two more: the interruption then lands in the middle of the data.
  await sleep(1500);
}

async function listing(prefix: string): Promise<{ objects: string[]; uploads: string[] }> {
  const client = started().store.client();
  try {
    return {
      objects: (await client.listAllObjects(bucket, { prefix })).map((o) => o.key),
      uploads: (await client.listMultipartUploads(bucket, { prefix })).map((u) => u.key),
    };
  } finally {
    client.close();
  }
}

async function cleanUp(runId: string): Promise<Awaited<ReturnType<typeof cleanUpRunFolder>>> {
  const client = started().store.client();
  try {
    return await cleanUpRunFolder(client, { bucket, prefix: 'agency', namespace: 'site-a', name: 'big' }, runId, 'folder', { now: new Date(), deadlineMs: 3_600_000 });
  } finally {
    client.close();
  }
}

/** Row count and CHECKSUM TABLE of big.blobs. */
async function facts(database: string): Promise<{ rows: number; checksum: string }> {
  const { admin } = started();
  const [count] = await admin.query<{ n: bigint }[]>(`SELECT COUNT(*) AS n FROM \`${database}\`.blobs`);
  const [sum] = await admin.query<{ Checksum: bigint | number }[]>(`CHECKSUM TABLE \`${database}\`.blobs`);
  return { rows: Number(count?.n), checksum: String(sum?.Checksum) };
}

before(async () => {
  const [db, objectStore] = await Promise.all([
    startMariaDB({ dir: join(dir, 'mariadb'), name: 'interrupted', extraArgs: ['--log-bin=binlog', '--server-id=9', '--binlog-format=ROW'] }),
    startObjectStore({ dir: join(dir, 'seaweedfs'), buckets: [bucket] }),
  ]);
  server = db;
  store = objectStore;
  admin = await mariadb.createConnection({ host: db.host, port: db.port, user: db.adminUser, password: db.adminPassword, multipleStatements: true });
  await admin.query(`
    CREATE DATABASE big;
    CREATE TABLE big.blobs (id INT PRIMARY KEY, payload VARBINARY(1024)) ENGINE=InnoDB;
    INSERT INTO big.blobs SELECT seq, RANDOM_BYTES(1024) FROM big.seq_1_to_${rows};
  `);
  await admin.query('CREATE USER backup_big@? IDENTIFIED BY ?', ['127.0.0.1', password]);
  await admin.query("GRANT SELECT, SHOW VIEW, TRIGGER, LOCK TABLES, EVENT ON `big`.* TO backup_big@'127.0.0.1'");
  await admin.query('CREATE USER restore_big@? IDENTIFIED BY ?', ['127.0.0.1', password]);
  await admin.query("GRANT ALL ON `big_restored`.* TO restore_big@'127.0.0.1'");
});

after(async () => {
  await admin?.end();
  await store?.stop();
  if (server !== undefined) await stopMariaDB(server);
  rmSync(dir, { recursive: true, force: true });
});

describe('a backup interrupted mid-upload to S3', () => {
  it('killed: leaves no object and no manifest; the cleanup aborts its upload; the retry succeeds and restores equal', async () => {
    const runId = '20261202T030000Z';
    const prefix = `agency/site-a/big/${runId}/`;
    const running = startScript({ ...backupEnv(runId, `target:${bucket}/${prefix.slice(0, -1)}`), ...s3Env(), ...slowUpload });
    await uploadUnderWay(prefix);
    killGroup(running.child);
    const killed = await running.done;
    assert.equal(killed.signal, 'SIGKILL');

    const left = await listing(prefix);
    assert.deepEqual(left.objects, [], 'no object (and so no manifest) of a killed upload is visible');
    assert.deepEqual(left.uploads, [`${prefix}data.sql`], 'its unfinished multipart upload is what it leaves');

    const report = await cleanUp(runId);
    assert.equal(report.error, undefined);
    assert.equal(report.abortedUploads, 1);
    assert.deepEqual(await listing(prefix), { objects: [], uploads: [] });

    const retry = await startScript({ ...backupEnv(runId, `target:${bucket}/${prefix.slice(0, -1)}`), ...s3Env() }).done;
    assert.equal(retry.code, 0, retry.stderr);
    assert.deepEqual((await listing(prefix)).objects.sort(), [`${prefix}data.sql`, `${prefix}manifest.json`]);
    assert.equal(await restoreFrom(`target:${bucket}/${prefix.slice(0, -1)}`), 0);
    assert.deepEqual(await facts('big_restored'), await facts('big'));
  });

  it('store frozen: fails retryably with no manifest; the cleanup leaves nothing; the retry succeeds', async () => {
    const runId = '20261203T030000Z';
    const prefix = `agency/site-a/big/${runId}/`;
    const { store } = started();
    const running = startScript({
      ...backupEnv(runId, `target:${bucket}/${prefix.slice(0, -1)}`),
      ...s3Env(),
      ...slowUpload,
      // A Job's rclone keeps its defaults; here the wait for the frozen store is cut short.
      RCLONE_TIMEOUT: '5s',
      RCLONE_CONTIMEOUT: '3s',
      RCLONE_LOW_LEVEL_RETRIES: '1',
      RCLONE_RETRIES: '1',
    });
    await uploadUnderWay(prefix);
    process.kill(store.process.pid, 'SIGSTOP');
    let failed: ScriptRun;
    try {
      failed = await running.done;
    } finally {
      process.kill(store.process.pid, 'SIGCONT');
    }
    assert.equal(failed.code, 1, `a failure a retry may mend: ${failed.stderr}`);
    assert.equal(failed.result.reason, 'BackupFailed');
    assert.ok(!(await listing(prefix)).objects.includes(`${prefix}manifest.json`), 'no manifest');

    const report = await cleanUp(runId);
    assert.equal(report.error, undefined);
    assert.deepEqual(await listing(prefix), { objects: [], uploads: [] });

    const retry = await startScript({ ...backupEnv(runId, `target:${bucket}/${prefix.slice(0, -1)}`), ...s3Env() }).done;
    assert.equal(retry.code, 0, retry.stderr);
    assert.ok((await listing(prefix)).objects.includes(`${prefix}manifest.json`));
  });
});

describe('a backup interrupted mid-write to a volume', () => {
  it('killed: the retry removes what it wrote and the backup’s older manifest-less runs, and keeps complete ones', async () => {
    const backupDir = join(volume, 'site-a/big');
    // An older interrupted run, and an older complete one (as a manifest beside its data).
    mkdirSync(join(backupDir, '20261130T030000Z'), { recursive: true });
    writeFileSync(join(backupDir, '20261130T030000Z/data.sql'), 'partial');
    mkdirSync(join(backupDir, '20261201T030000Z'), { recursive: true });
    writeFileSync(join(backupDir, '20261201T030000Z/data.sql'), 'complete');
    writeFileSync(join(backupDir, '20261201T030000Z/manifest.json'), '{}');
    const runId = '20261202T030000Z';
    const location = `target:${backupDir}/${runId}`;
    const running = startScript({ ...backupEnv(runId, location), RCLONE_CONFIG_TARGET_TYPE: 'local', ...slowUpload });
    await until('the data file to grow', 60_000, () => Promise.resolve(existsSync(join(backupDir, runId)) && readdirSync(join(backupDir, runId)).length > 0 ? true : undefined));
    await sleep(1500);
    killGroup(running.child);
    const killed = await running.done;
    assert.ok(!existsSync(join(backupDir, runId, 'manifest.json')), 'no manifest');
    // Every attempt clears before it writes: the killed one removed the older interrupted run already.
    assert.match(killed.stderr, /removed what an interrupted run left in .*20261130T030000Z/);

    const retry = await startScript({ ...backupEnv(runId, location), RCLONE_CONFIG_TARGET_TYPE: 'local' }).done;
    assert.equal(retry.code, 0, retry.stderr);
    assert.deepEqual(readdirSync(backupDir).sort(), ['20261201T030000Z', runId], 'the older interrupted run is gone, the complete one kept');
    assert.deepEqual(readdirSync(join(backupDir, runId)).sort(), ['data.sql', 'manifest.json']);
    assert.match(retry.stderr, /removed what an interrupted run left in .*20261202T030000Z/);
  });
});

/** Restores big into big_restored from `location` with the script; its exit status. */
async function restoreFrom(location: string): Promise<number | null> {
  const { admin } = started();
  await admin.query('DROP DATABASE IF EXISTS big_restored');
  const resultFile = join(dir, `result-restore-${Date.now()}`);
  const child = spawn('bash', [script, 'restore'], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      TMPDIR: dir,
      RESULT_FILE: resultFile,
      ...connectionEnv(),
      DB_USER: 'restore_big',
      ...s3Env(),
      LOCATION: location,
      RESTORE_DATABASES: 'big\tbig_restored',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return new Promise((resolve) => {
    child.on('close', (code) => {
      resolve(code);
    });
  });
}
