// The backup Job's script (test/env/images/mariadb/flightdeck-backup.sh) run as
// a process against a real mariadbd with a binary log, writing to a local
// directory as a PVC target: a backup is proven by restoring it into another
// database and comparing every table's rows and CHECKSUM TABLE with the
// source's; a non-empty target is refused untouched, a tampered object is
// refused before any database is touched, a run without manifest is no backup.
// The same round trip through a real S3 store (SeaweedFS's gateway).
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as mariadb from 'mariadb';
import { startMariaDB, stopMariaDB, type MariaDBInstance } from '../env/mariadb.ts';
import { startObjectStore, type ObjectStore } from '../env/object-store.ts';
import { repoRoot } from '../env/paths.ts';

const script = join(repoRoot, 'test/env/images/mariadb/flightdeck-backup.sh');
const dir = mkdtempSync(join(tmpdir(), 'flightdeck-backup-script-'));
const store = join(dir, 'pvc');
mkdirSync(store);

interface ScriptRun {
  readonly code: number;
  readonly result: Record<string, unknown>;
  readonly stderr: string;
}

/** Runs the script with exactly `env` (and PATH), as a Job's container would. */
function runScript(command: 'backup' | 'restore', env: Record<string, string>): Promise<ScriptRun> {
  const resultFile = join(dir, `result-${command}-${Date.now()}`);
  return new Promise((resolve) => {
    execFile(
      'bash',
      [script, command],
      { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', TMPDIR: dir, RESULT_FILE: resultFile, ...env }, maxBuffer: 16 * 1024 * 1024 },
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

let server: MariaDBInstance | undefined;
let admin: mariadb.Connection | undefined;

function started(): { server: MariaDBInstance; admin: mariadb.Connection } {
  if (server === undefined || admin === undefined) throw new Error('the test server did not start');
  return { server, admin };
}

/** Row count and CHECKSUM TABLE of every base table of `database`, by name. */
async function tableFacts(database: string): Promise<Record<string, { rows: number; checksum: string }>> {
  const { admin } = started();
  const tables = await admin.query<{ name: string }[]>(
    "SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
    [database],
  );
  const facts: Record<string, { rows: number; checksum: string }> = {};
  for (const { name } of tables) {
    const quoted = `\`${database.replaceAll('`', '``')}\`.\`${name.replaceAll('`', '``')}\``;
    const [count] = await admin.query<{ n: bigint }[]>(`SELECT COUNT(*) AS n FROM ${quoted}`);
    const [sum] = await admin.query<{ Checksum: bigint | number }[]>(`CHECKSUM TABLE ${quoted}`);
    facts[name] = { rows: Number(count?.n), checksum: String(sum?.Checksum) };
  }
  return facts;
}

function connectionEnv(user: string, password: string): Record<string, string> {
  const passwordFile = join(dir, `password-${user}`);
  writeFileSync(passwordFile, password, { mode: 0o600 });
  const { server } = started();
  return { DB_HOST: server.host, DB_PORT: String(server.port), DB_USER: user, DB_PASSWORD_FILE: passwordFile };
}

const localTarget = { RCLONE_CONFIG_TARGET_TYPE: 'local' };
const backupPassword = 'b4ck-up pass\'word"$(x)';
const restorePassword = 'r3store;pass`word';

before(async () => {
  const source = await startMariaDB({ dir: join(dir, 'mariadb'), name: 'source', extraArgs: ['--log-bin=binlog', '--server-id=7', '--binlog-format=ROW'] });
  server = source;
  const conn = await mariadb.createConnection({ host: source.host, port: source.port, user: source.adminUser, password: source.adminPassword, multipleStatements: true });
  admin = conn;
  await conn.query(`
    CREATE DATABASE shop CHARACTER SET utf8mb4;
    CREATE TABLE shop.orders (id INT PRIMARY KEY AUTO_INCREMENT, customer VARCHAR(100), total DECIMAL(10,2), note TEXT, image BLOB) ENGINE=InnoDB;
    CREATE TABLE shop.\`odd name\`\`s\` (k VARCHAR(20) PRIMARY KEY, v JSON) ENGINE=InnoDB;
    CREATE TABLE shop.empty_one (id INT PRIMARY KEY) ENGINE=InnoDB;
    CREATE DATABASE other;
    CREATE TABLE other.secrets (s VARCHAR(50));
    INSERT INTO other.secrets VALUES ('not for shop backups');
  `);
  for (let i = 0; i < 500; i++) {
    await conn.query('INSERT INTO shop.orders (customer, total, note, image) VALUES (?, ?, ?, ?)', [
      `customer ${i} — ünïcödé`,
      (i * 3.17).toFixed(2),
      i % 7 === 0 ? "line one\nUSE `other`;\n-- Current Database: `other`\ttab 'quote'" : null,
      Buffer.from([i % 256, 0, 255, 10, 13]),
    ]);
  }
  await conn.query("INSERT INTO shop.`odd name``s` VALUES ('a', '{\"x\": 1}'), ('b', '[1,2,3]')");
  // The accounts the operator would make: read-only on shop for the backup, all on the target for the restore.
  await conn.query('CREATE USER backup_shop@? IDENTIFIED BY ?', ['127.0.0.1', backupPassword]);
  await conn.query("GRANT SELECT, SHOW VIEW, TRIGGER, LOCK TABLES, EVENT ON `shop`.* TO backup_shop@'127.0.0.1'");
  await conn.query('CREATE USER restore_shop@? IDENTIFIED BY ?', ['127.0.0.1', restorePassword]);
  await conn.query("GRANT ALL ON `shop_restored`.* TO restore_shop@'127.0.0.1'");
});

after(async () => {
  await admin?.end();
  if (server !== undefined) await stopMariaDB(server);
  rmSync(dir, { recursive: true, force: true });
});

describe('flightdeck-backup to a PVC-like directory', () => {
  const location = `target:${store}/site-a/nightly/20261202T030000Z`;
  const runDir = join(store, 'site-a/nightly/20261202T030000Z');

  it('backs up exactly the named database, manifest last, with sha256, size, GTID position and per-table facts', async () => {
    const run = await runScript('backup', {
      ...connectionEnv('backup_shop', backupPassword),
      ...localTarget,
      LOCATION: location,
      BACKUP_ID: '20261202T030000Z',
      BACKUP_DATABASES: 'shop',
      BACKUP_COMPRESSION: 'gzip',
    });
    assert.equal(run.code, 0, `backup failed: ${run.stderr}`);
    assert.equal(run.result.result, 'Completed');
    assert.deepEqual(readdirSync(runDir).sort(), ['data.sql.gz', 'manifest.json']);
    const manifest = JSON.parse(readFileSync(join(runDir, 'manifest.json'), 'utf8')) as Record<string, unknown>;
    const data = readFileSync(join(runDir, 'data.sql.gz'));
    assert.equal(manifest.sha256, createHash('sha256').update(data).digest('hex'));
    assert.equal(manifest.sizeBytes, data.length);
    assert.deepEqual(manifest.databases, ['shop']);
    assert.equal(manifest.compression, 'gzip');
    assert.equal(manifest.encrypted, false);
    const [gtid] = await started().admin.query<{ pos: string }[]>('SELECT @@gtid_binlog_pos AS pos');
    assert.equal(manifest.gtidPosition, gtid?.pos, 'the dump records the GTID position it was taken at');
    assert.equal(manifest.tablesFromDumpSnapshot, true, 'no writes: the counts are the dump snapshot’s');
    const source = await tableFacts('shop');
    const recorded = manifest.tables as { database: string; table: string; rows: number; checksum: string }[];
    assert.deepEqual(
      Object.fromEntries(recorded.map((t) => [t.table, { rows: t.rows, checksum: t.checksum }])),
      source,
    );
    assert.ok(!recorded.some((t) => t.database === 'other'), 'another database is never in the backup');
    assert.ok(!run.stderr.includes(backupPassword), 'the password is never printed');
  });

  it('restores into a new database with every table’s rows and checksum equal to the source’s', async () => {
    const run = await runScript('restore', {
      ...connectionEnv('restore_shop', restorePassword),
      ...localTarget,
      LOCATION: location,
      RESTORE_DATABASES: 'shop\tshop_restored',
    });
    assert.equal(run.code, 0, `restore failed: ${run.stderr}`);
    assert.equal(run.result.result, 'Completed');
    assert.equal(run.result.verified, true);
    assert.deepEqual(await tableFacts('shop_restored'), await tableFacts('shop'));
    assert.deepEqual(run.result.restored, [{ database: 'shop_restored', tables: 3, rows: 502 }]);
  });

  it('refuses a non-empty target without overwrite and leaves it as it was', async () => {
    await started().admin.query('INSERT INTO shop_restored.empty_one VALUES (42)');
    const before = await tableFacts('shop_restored');
    const run = await runScript('restore', {
      ...connectionEnv('restore_shop', restorePassword),
      ...localTarget,
      LOCATION: location,
      RESTORE_DATABASES: 'shop\tshop_restored',
    });
    assert.equal(run.code, 2, 'refused: a retry cannot help');
    assert.equal(run.result.reason, 'TargetNotEmpty');
    assert.match(String(run.result.message), /shop_restored has 3 tables; set overwrite/);
    assert.deepEqual(await tableFacts('shop_restored'), before);
  });

  it('with overwrite replaces the target by the backup’s content', async () => {
    const run = await runScript('restore', {
      ...connectionEnv('restore_shop', restorePassword),
      ...localTarget,
      LOCATION: location,
      RESTORE_DATABASES: 'shop\tshop_restored',
      RESTORE_OVERWRITE: 'true',
    });
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(await tableFacts('shop_restored'), await tableFacts('shop'));
  });

  it('with no mapping restores every database under its own name, unfiltered, and verifies it', async () => {
    const { server, admin } = started();
    const backedUp = await tableFacts('shop');
    await admin.query("INSERT INTO shop.orders (customer, total) VALUES ('after the backup', 1)");
    await admin.query('CREATE TABLE shop.after_backup (id INT PRIMARY KEY)');
    const run = await runScript('restore', {
      ...connectionEnv(server.adminUser, server.adminPassword),
      ...localTarget,
      LOCATION: location,
      RESTORE_OVERWRITE: 'true',
    });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.result.verified, true, JSON.stringify(run.result));
    assert.deepEqual(await tableFacts('shop'), backedUp, 'shop is as it was backed up, the later table gone');
  });

  it('refuses a tampered object before touching the database', async () => {
    const tamperedDir = join(store, 'site-a/nightly/tampered');
    mkdirSync(tamperedDir, { recursive: true });
    const data = readFileSync(join(runDir, 'data.sql.gz'));
    data[data.length - 20] = (data[data.length - 20] ?? 0) ^ 0xff;
    writeFileSync(join(tamperedDir, 'data.sql.gz'), data);
    writeFileSync(join(tamperedDir, 'manifest.json'), readFileSync(join(runDir, 'manifest.json')));
    await started().admin.query('DROP DATABASE shop_restored');
    const run = await runScript('restore', {
      ...connectionEnv('restore_shop', restorePassword),
      ...localTarget,
      LOCATION: `target:${tamperedDir}`,
      RESTORE_DATABASES: 'shop\tshop_restored',
    });
    assert.notEqual(run.code, 0);
    assert.equal(run.result.reason, 'ChecksumMismatch');
    const present = await started().admin.query<unknown[]>("SHOW DATABASES LIKE 'shop_restored'");
    assert.equal(present.length, 0, 'nothing was created');
  });

  it('does not take a run without manifest.json for a backup', async () => {
    const interrupted = join(store, 'site-a/nightly/interrupted');
    mkdirSync(interrupted, { recursive: true });
    writeFileSync(join(interrupted, 'data.sql.gz'), readFileSync(join(runDir, 'data.sql.gz')));
    const run = await runScript('restore', {
      ...connectionEnv('restore_shop', restorePassword),
      ...localTarget,
      LOCATION: `target:${interrupted}`,
      RESTORE_DATABASES: 'shop\tshop_restored',
    });
    assert.notEqual(run.code, 0);
    assert.equal(run.result.reason, 'BackupNotFound');
  });

  it('round-trips zstd with encryption, and refuses the encrypted backup without its key', async () => {
    const keyFile = join(dir, 'backup-key');
    writeFileSync(keyFile, 'a key of the backup namespace', { mode: 0o600 });
    const encryptedLocation = `target:${store}/site-a/encrypted/20261202T040000Z`;
    const backup = await runScript('backup', {
      ...connectionEnv('backup_shop', backupPassword),
      ...localTarget,
      LOCATION: encryptedLocation,
      BACKUP_ID: '20261202T040000Z',
      BACKUP_DATABASES: 'shop',
      BACKUP_COMPRESSION: 'zstd',
      ENCRYPTION_KEY_FILE: keyFile,
    });
    assert.equal(backup.code, 0, backup.stderr);
    const stored = readFileSync(join(store, 'site-a/encrypted/20261202T040000Z/data.sql.zst.enc'));
    assert.equal(stored.subarray(0, 8).toString('latin1'), 'Salted__', 'the stored object is ciphertext');
    const withoutKey = await runScript('restore', {
      ...connectionEnv('restore_shop', restorePassword),
      ...localTarget,
      LOCATION: encryptedLocation,
      RESTORE_DATABASES: 'shop\tshop_restored',
    });
    assert.equal(withoutKey.result.reason, 'KeyRequired');
    const restore = await runScript('restore', {
      ...connectionEnv('restore_shop', restorePassword),
      ...localTarget,
      LOCATION: encryptedLocation,
      RESTORE_DATABASES: 'shop\tshop_restored',
      ENCRYPTION_KEY_FILE: keyFile,
    });
    assert.equal(restore.code, 0, restore.stderr);
    assert.deepEqual(await tableFacts('shop_restored'), await tableFacts('shop'));
  });

  it('refuses a database the backup account may not see', async () => {
    const run = await runScript('backup', {
      ...connectionEnv('backup_shop', backupPassword),
      ...localTarget,
      LOCATION: `target:${store}/site-a/other/x`,
      BACKUP_ID: '20261202T050000Z',
      BACKUP_DATABASES: 'other',
    });
    assert.notEqual(run.code, 0);
    assert.equal(run.result.reason, 'DatabaseNotFound');
  });
});

describe('flightdeck-backup pruning a PVC-like directory (PRUNE_RUNS)', () => {
  const folder = join(store, 'site-a/pruned');
  const runId = '20261205T030000Z';
  /** A complete run as a Job leaves it (the script never reads an old run's content). */
  const storedRun = (id: string): void => {
    mkdirSync(join(folder, id), { recursive: true });
    writeFileSync(join(folder, id, 'data.sql.gz'), `data of ${id}`);
    writeFileSync(join(folder, id, 'manifest.json'), JSON.stringify({ id }));
  };
  const backupWith = (pruneRuns: string, id = runId): Promise<ScriptRun> =>
    runScript('backup', {
      ...connectionEnv('backup_shop', backupPassword),
      ...localTarget,
      LOCATION: `target:${folder}/${id}`,
      BACKUP_ID: id,
      BACKUP_DATABASES: 'shop',
      PRUNE_RUNS: pruneRuns,
    });

  it('after its own manifest deletes exactly the named runs of its folder, refuses ids that are no run or its own, and reports both', async () => {
    for (const id of ['20261201T030000Z', '20261202T030000Z', '20261203T030000Z', '20261204T030000Z']) storedRun(id);
    // A sibling backup's folder, and a folder of this one that is no run: never touched.
    storedRun('../nightly-other/20261201T030000Z');
    mkdirSync(join(folder, 'notes'));
    const run = await backupWith(['20261201T030000Z', '20261202T030000Z', '../nightly-other/20261201T030000Z', 'notes', runId, '20261130T030000Z'].join('\n'));
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.result.result, 'Completed', 'a prune that refuses ids is no failed run');
    // 20261130T030000Z was gone already: nothing of it is left to list.
    assert.deepEqual(run.result.pruned, ['20261201T030000Z', '20261202T030000Z', '20261130T030000Z']);
    assert.match(String(run.result.pruneError), /refused to prune \.\.\/nightly-other\/20261201T030000Z \(not a run id\) notes \(not a run id\) 20261205T030000Z \(this run's own\)/);
    assert.deepEqual(readdirSync(folder).sort(), ['20261203T030000Z', '20261204T030000Z', runId, 'notes']);
    assert.deepEqual(readdirSync(join(folder, runId)).sort(), ['data.sql.gz', 'manifest.json'], 'its own backup is whole');
    assert.deepEqual(readdirSync(join(store, 'site-a/nightly-other/20261201T030000Z')).sort(), ['data.sql.gz', 'manifest.json']);
  });

  it('without PRUNE_RUNS deletes nothing and reports no pruning', async () => {
    const run = await backupWith('', '20261206T030000Z');
    assert.equal(run.code, 0, run.stderr);
    assert.ok(!('pruned' in run.result) && !('pruneError' in run.result), JSON.stringify(run.result));
    assert.ok(readdirSync(folder).includes('20261203T030000Z'));
  });

  // Root deletes whatever the modes say; an immutable file (ext4, as root) is what a deletion cannot get past.
  const immutable = join(folder, '20261203T030000Z/data.sql.gz');
  const chattr = (flag: '+i' | '-i'): boolean => {
    try {
      execFileSync('chattr', [flag, immutable], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };
  it('deletes a run’s manifest before its data: cut off half-way it leaves no look-alike backup, stops, and reports it without failing', async (t) => {
    if (!chattr('+i')) {
      t.skip('chattr +i is refused here (not root, or a file system without immutable files)');
      return;
    }
    try {
      const run = await backupWith('20261203T030000Z\n20261204T030000Z', '20261207T030000Z');
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.result.result, 'Completed');
      assert.deepEqual(run.result.pruned, []);
      assert.match(String(run.result.pruneError), /deleting .*\/20261203T030000Z \(its manifest.json is gone\)/);
      assert.deepEqual(readdirSync(join(folder, '20261203T030000Z')), ['data.sql.gz'], 'no manifest: no backup');
      assert.deepEqual(readdirSync(join(folder, '20261204T030000Z')).sort(), ['data.sql.gz', 'manifest.json'], 'stopped at the first failure');
    } finally {
      chattr('-i');
    }
  });
});

describe('flightdeck-backup to an S3-compatible store', () => {
  let objectStore: ObjectStore | undefined;
  before(async () => {
    objectStore = await startObjectStore({ dir: join(dir, 'seaweedfs'), buckets: ['backups'] });
  });
  after(async () => {
    await objectStore?.stop();
  });

  function s3Env(): Record<string, string> {
    if (objectStore === undefined) throw new Error('the object store did not start');
    // As the Job builder sets them (src/controllers/backup/job.ts).
    return {
      RCLONE_CONFIG_TARGET_TYPE: 's3',
      RCLONE_CONFIG_TARGET_PROVIDER: 'Other',
      RCLONE_CONFIG_TARGET_ENDPOINT: objectStore.endpoint,
      RCLONE_CONFIG_TARGET_REGION: objectStore.region,
      RCLONE_CONFIG_TARGET_FORCE_PATH_STYLE: 'true',
      RCLONE_CONFIG_TARGET_NO_CHECK_BUCKET: 'true',
      RCLONE_CONFIG_TARGET_ACCESS_KEY_ID: objectStore.accessKeyId,
      RCLONE_CONFIG_TARGET_SECRET_ACCESS_KEY: objectStore.secretAccessKey,
    };
  }

  it('backs up to the bucket and restores from it with equal rows and checksums', async () => {
    const location = 'target:backups/agency/site-a/nightly/20261202T060000Z';
    const backup = await runScript('backup', {
      ...connectionEnv('backup_shop', backupPassword),
      ...s3Env(),
      LOCATION: location,
      BACKUP_ID: '20261202T060000Z',
      BACKUP_DATABASES: 'shop',
      BACKUP_COMPRESSION: 'gzip',
    });
    assert.equal(backup.code, 0, backup.stderr);
    const client = objectStore?.client();
    assert.ok(client !== undefined);
    try {
      const manifestText = await client.getObject('backups', 'agency/site-a/nightly/20261202T060000Z/manifest.json');
      const manifest = JSON.parse(manifestText.toString('utf8')) as { sha256: string; sizeBytes: number };
      assert.equal(manifest.sha256, backup.result.sha256);
      assert.ok(manifest.sizeBytes > 0);
    } finally {
      client.close();
    }
    await started().admin.query('DROP DATABASE IF EXISTS shop_restored');
    const restore = await runScript('restore', {
      ...connectionEnv('restore_shop', restorePassword),
      ...s3Env(),
      LOCATION: location,
      RESTORE_DATABASES: 'shop\tshop_restored',
    });
    assert.equal(restore.code, 0, restore.stderr);
    assert.equal(restore.result.verified, true);
    assert.deepEqual(await tableFacts('shop_restored'), await tableFacts('shop'));
  });

  it('fails, retryable, and leaves no manifest when the store is unreachable', async () => {
    const run = await runScript('backup', {
      ...connectionEnv('backup_shop', backupPassword),
      ...s3Env(),
      RCLONE_CONFIG_TARGET_ENDPOINT: 'http://127.0.0.1:9',
      RCLONE_RETRIES: '1',
      RCLONE_LOW_LEVEL_RETRIES: '1',
      LOCATION: 'target:backups/agency/site-a/nightly/20261202T070000Z',
      BACKUP_ID: '20261202T070000Z',
      BACKUP_DATABASES: 'shop',
    });
    assert.equal(run.code, 1, 'a failure a retry may mend');
    assert.equal(run.result.reason, 'BackupFailed');
    const client = objectStore?.client();
    assert.ok(client !== undefined);
    try {
      assert.deepEqual(await client.listAllObjects('backups', { prefix: 'agency/site-a/nightly/20261202T070000Z/' }), []);
    } finally {
      client.close();
    }
  });
});
