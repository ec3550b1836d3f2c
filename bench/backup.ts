// Benchmark: backup and restore of a ~1 GiB WordPress-like database by the
// backup Job's script (flightdeck-backup), against the hand-run pipelines
// `mariadb-dump | gzip | upload` and `download | gunzip | mariadb` measured in
// the same run, on the same store, with alternating order so that the load of
// a shared machine falls on both alike. Issue 9's goal: both ratios ≤ 1.2.
// Then where the script's time goes (stage by stage), and the queue figure:
// N backups due at once under the cluster-wide limit, against their summed
// durations one by one. Prints one JSON object on stdout; progress on stderr.
//
// Run: node bench/backup.ts [--size-mib 1024] [--repetitions 3] [--stores s3,local]
//        [--queue-backups 30] [--queue-limit 2] [--queue-size-mib 8] [--queue-jitter-seconds 0] [--profile true]
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as mariadb from 'mariadb';
import { formatRunId } from '../src/backup/manifest.ts';
import { databaseName, quoteIdentifier, tableName } from '../src/mysql/identifiers.ts';
import { startMariaDB, stopMariaDB, type MariaDBInstance } from '../test/env/mariadb.ts';
import { startObjectStore, type ObjectStore } from '../test/env/object-store.ts';
import { generateDataset, type Dataset } from './backup/dataset.ts';
import { baselineBackup, baselineRestore, ourBackup, ourRestore, run, storedBytes, dumpOptions, type Account, type Store } from './backup/pipelines.ts';
import { timeStages, timeTableFacts, type StageTimes, type TableFactsTiming } from './backup/profile.ts';
import { measureQueue, type QueueFigure } from './backup/queue-run.ts';

const { values } = parseArgs({
  options: {
    'size-mib': { type: 'string', default: '1024' },
    repetitions: { type: 'string', default: '3' },
    stores: { type: 'string', default: 's3,local' },
    'queue-backups': { type: 'string', default: '30' },
    'queue-limit': { type: 'string', default: '2' },
    'queue-size-mib': { type: 'string', default: '8' },
    'queue-jitter-seconds': { type: 'string', default: '0' },
    profile: { type: 'string', default: 'true' },
    'buffer-pool-mib': { type: 'string', default: '512' },
  },
});
const sizeBytes = Number(values['size-mib']) * 1024 * 1024;
const repetitions = Number(values.repetitions);
const storeNames = values.stores.split(',').filter((s) => s !== '');
const queueBackups = Number(values['queue-backups']);
const queueLimit = Number(values['queue-limit']);
const queueBytes = Number(values['queue-size-mib']) * 1024 * 1024;
const queueJitterSeconds = Number(values['queue-jitter-seconds']);
for (const name of storeNames) if (name !== 's3' && name !== 'local') throw new Error(`--stores takes s3 and/or local, not ${name}`);

const log = (message: string): void => {
  process.stderr.write(`# ${new Date().toISOString().slice(11, 19)} ${message}\n`);
};
const round = (n: number): number => Math.round(n * 100) / 100;
const median = (list: readonly number[]): number => {
  const sorted = [...list].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? Number.NaN) : ((sorted[middle - 1] ?? Number.NaN) + (sorted[middle] ?? Number.NaN)) / 2;
};

interface Comparison {
  readonly baselineSeconds: number[];
  readonly oursSeconds: number[];
  /** Which ran first in each repetition. */
  readonly firstInRepetition: ('baseline' | 'ours')[];
}

function summary(c: Comparison): Record<string, unknown> {
  const baseline = median(c.baselineSeconds);
  const ours = median(c.oursSeconds);
  return {
    baselineP50Seconds: round(baseline),
    oursP50Seconds: round(ours),
    ratioP50: round(ours / baseline),
    runs: c.oursSeconds.map((o, i) => ({
      first: c.firstInRepetition[i],
      baselineSeconds: round(c.baselineSeconds[i] ?? Number.NaN),
      oursSeconds: round(o),
      ratio: round(o / (c.baselineSeconds[i] ?? Number.NaN)),
    })),
  };
}

const dir = mkdtempSync(join(tmpdir(), 'flightdeck-bench-backup-'));
const serverArgs = (serverId: number): string[] => [
  '--log-bin=binlog', `--server-id=${serverId}`, '--binlog-format=ROW',
  `--innodb-buffer-pool-size=${values['buffer-pool-mib']}M`, '--innodb-log-file-size=256M', '--max-allowed-packet=256M',
];
const servers: MariaDBInstance[] = [];
const connections: mariadb.Connection[] = [];
let objectStore: ObjectStore | undefined;
const loadAtStart = loadavg();
/** Stops what the bench started (the servers run in process groups of their own, so an interrupted bench must stop them). */
let cleaning: Promise<void> | undefined;
function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    for (const conn of connections) {
      await conn.end().catch((error: unknown) => {
        log(`closing a connection: ${String(error)}`);
      });
    }
    await objectStore?.stop();
    for (const server of servers) await stopMariaDB(server);
    rmSync(dir, { recursive: true, force: true });
  })();
  return cleaning;
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping the servers`);
    void cleanUp().finally(() => process.exit(130));
  });
}
try {
  log(`starting two mariadbd (source, restore target)${storeNames.includes('s3') ? ' and SeaweedFS' : ''} under ${dir}`);
  const [source, target] = await Promise.all([
    startMariaDB({ dir: join(dir, 'mariadb'), name: 'source', extraArgs: serverArgs(1) }),
    startMariaDB({ dir: join(dir, 'mariadb'), name: 'target', extraArgs: serverArgs(2) }),
  ]);
  servers.push(source, target);
  if (storeNames.includes('s3')) objectStore = await startObjectStore({ dir: join(dir, 'seaweedfs'), buckets: ['backups'] });
  const connect = async (server: MariaDBInstance): Promise<mariadb.Connection> => {
    const conn = await mariadb.createConnection({ host: server.host, port: server.port, user: server.adminUser, password: server.adminPassword });
    connections.push(conn);
    return conn;
  };
  const sourceConn = await connect(source);
  const targetConn = await connect(target);
  // Both sides log in as the admin: the Job's least-privilege account reads the same rows.
  const sourceAccount: Account = { host: source.host, port: source.port, user: source.adminUser, password: source.adminPassword };
  const targetAccount: Account = { host: target.host, port: target.port, user: target.adminUser, password: target.adminPassword };

  const stores: Store[] = storeNames.map((name): Store => {
    if (name === 'local') {
      mkdirSync(join(dir, 'store'));
      return { name, env: { RCLONE_CONFIG_TARGET_TYPE: 'local' }, base: `target:${join(dir, 'store')}` };
    }
    if (objectStore === undefined) throw new Error('the object store did not start');
    return {
      name,
      env: {
        RCLONE_CONFIG_TARGET_TYPE: 's3',
        RCLONE_CONFIG_TARGET_PROVIDER: 'Other',
        RCLONE_CONFIG_TARGET_ENDPOINT: objectStore.endpoint,
        RCLONE_CONFIG_TARGET_REGION: objectStore.region,
        RCLONE_CONFIG_TARGET_FORCE_PATH_STYLE: 'true',
        RCLONE_CONFIG_TARGET_NO_CHECK_BUCKET: 'true',
        RCLONE_CONFIG_TARGET_ACCESS_KEY_ID: objectStore.accessKeyId,
        RCLONE_CONFIG_TARGET_SECRET_ACCESS_KEY: objectStore.secretAccessKey,
      },
      base: 'target:backups/bench',
    };
  });

  log(`generating ${values['size-mib']} MiB`);
  const dataDir = join(dir, 'generated');
  mkdirSync(dataDir);
  const dataset: Dataset = await generateDataset(sourceConn, { dir: dataDir, database: 'bench', bytes: sizeBytes });
  log(`generated in ${round(dataset.generateSeconds)} s, loaded in ${round(dataset.loadSeconds)} s: ${JSON.stringify(dataset.tables)}`);
  const tables = dataset.tables.map((t) => t.name);

  // Warm-up: the first full read of the tables fills the buffer pool; neither side should pay it alone.
  const warmup = await run('warm-up dump', 'bash', ['-c', `mariadb-dump --host="$1" --port="$2" --user="$3" --protocol=tcp ${dumpOptions} --databases bench >/dev/null`, 'warmup', source.host, String(source.port), source.adminUser], { MYSQL_PWD: source.adminPassword });
  log(`warm-up dump ${round(warmup.seconds)} s`);

  /** The restore target back to empty, its binary log too (restores write it, as on a managed cluster). */
  const emptyTarget = async (): Promise<void> => {
    await targetConn.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(databaseName, 'bench')}`);
    await targetConn.query('RESET MASTER');
  };
  /** The baseline has no check of its own: the bench checks its row counts, so a broken load cannot look fast. */
  const checkRestoredRows = async (): Promise<void> => {
    for (const table of dataset.tables) {
      const [row] = await targetConn.query<{ n: bigint }[]>(`SELECT COUNT(*) AS n FROM ${quoteIdentifier(databaseName, 'bench')}.${quoteIdentifier(tableName, table.name)}`);
      if (Number(row?.n) !== table.rows) throw new Error(`restored bench.${table.name} has ${row?.n} rows, not ${table.rows}`);
    }
  };

  const results: Record<string, unknown> = {};
  let profile: { stages: StageTimes; sourceFacts: TableFactsTiming; restoredFacts: TableFactsTiming; store: string } | undefined;
  for (const store of stores) {
    const backups: Comparison = { baselineSeconds: [], oursSeconds: [], firstInRepetition: [] };
    const restores: Comparison = { baselineSeconds: [], oursSeconds: [], firstInRepetition: [] };
    const storedSize = { baseline: 0, ours: 0 };
    let lastOurs = '';
    for (let rep = 0; rep < repetitions; rep++) {
      const first = rep % 2 === 0 ? 'baseline' : 'ours';
      const id = formatRunId(new Date(Date.UTC(2026, 11, 2, 3, rep)));
      const baselineFolder = `baseline/${id}`;
      const oursFolder = `ours/${id}`;
      lastOurs = oursFolder;
      const backupBaseline = async (): Promise<void> => {
        backups.baselineSeconds.push(await baselineBackup(sourceAccount, store, 'bench', baselineFolder));
      };
      const backupOurs = async (): Promise<void> => {
        const runResult = await ourBackup(sourceAccount, store, mkdtempSync(join(dir, 'work-')), 'bench', oursFolder, id);
        if (runResult.result.result !== 'Completed') throw new Error(`our backup did not complete: ${JSON.stringify(runResult.result)}`);
        backups.oursSeconds.push(runResult.seconds);
      };
      const restoreBaseline = async (): Promise<void> => {
        await emptyTarget();
        restores.baselineSeconds.push(await baselineRestore(targetAccount, store, baselineFolder));
        await checkRestoredRows();
      };
      const restoreOurs = async (): Promise<void> => {
        await emptyTarget();
        const runResult = await ourRestore(targetAccount, store, mkdtempSync(join(dir, 'work-')), oursFolder);
        if (runResult.result.verified !== true) throw new Error(`our restore did not verify: ${JSON.stringify(runResult.result)}`);
        restores.oursSeconds.push(runResult.seconds);
      };
      backups.firstInRepetition.push(first);
      restores.firstInRepetition.push(first);
      for (const step of first === 'baseline' ? [backupBaseline, backupOurs] : [backupOurs, backupBaseline]) await step();
      log(`${store.name} backup ${rep + 1}/${repetitions}: baseline ${round(backups.baselineSeconds.at(-1) ?? 0)} s, ours ${round(backups.oursSeconds.at(-1) ?? 0)} s`);
      storedSize.baseline = await storedBytes(store, baselineFolder);
      storedSize.ours = await storedBytes(store, oursFolder);
      for (const step of first === 'baseline' ? [restoreBaseline, restoreOurs] : [restoreOurs, restoreBaseline]) await step();
      log(`${store.name} restore ${rep + 1}/${repetitions}: baseline ${round(restores.baselineSeconds.at(-1) ?? 0)} s, ours ${round(restores.oursSeconds.at(-1) ?? 0)} s`);
      if (rep < repetitions - 1) {
        await run('rclone purge', 'rclone', ['purge', `${store.base}/${baselineFolder}`], store.env);
        await run('rclone purge', 'rclone', ['purge', `${store.base}/${oursFolder}`], store.env);
      }
    }
    if (profile === undefined && values.profile === 'true') {
      // The restore target holds the last restore (ours when the repetitions are even in number, else the baseline's: the same rows).
      log(`${store.name}: timing the stages`);
      const restoredFacts = await timeTableFacts(targetConn, 'bench', tables);
      const sourceFacts = await timeTableFacts(sourceConn, 'bench', tables);
      const stages = await timeStages(sourceAccount, store, mkdtempSync(join(dir, 'work-')), 'bench', lastOurs);
      profile = { store: store.name, stages, sourceFacts, restoredFacts };
    }
    await run('rclone purge', 'rclone', ['purge', store.base], store.env);
    results[store.name] = { backup: summary(backups), restore: summary(restores), storedBytes: storedSize };
  }
  await emptyTarget();

  let queue: QueueFigure | undefined;
  const queueStore = stores[0];
  if (queueBackups > 0 && queueStore !== undefined) {
    log(`queue: generating ${queueBackups} databases of ${values['queue-size-mib']} MiB`);
    const databases: string[] = [];
    for (let i = 1; i <= queueBackups; i++) {
      const database = `site_${String(i).padStart(2, '0')}`;
      const siteDir = join(dir, 'generated', database);
      mkdirSync(siteDir);
      await generateDataset(sourceConn, { dir: siteDir, database, bytes: queueBytes, seed: i + 1 });
      databases.push(database);
    }
    queue = await measureQueue({ account: sourceAccount, store: queueStore, workDir: dir, databases, limit: queueLimit, jitterSeconds: queueJitterSeconds, log });
    await run('rclone purge', 'rclone', ['purge', queueStore.base], queueStore.env);
  }

  const output = {
    benchmark: 'backup and restore (issue 9)',
    command: process.argv.slice(1).join(' '),
    machine: { cores: cpus().length, loadAverageAtStart: loadAtStart.map(round), loadAverageAtEnd: loadavg().map(round) },
    dataset: {
      database: dataset.database,
      tables: dataset.tables,
      textMiB: round(dataset.textBytes / 1048576),
      innodbMiB: round(dataset.innodbBytes / 1048576),
      generateSeconds: round(dataset.generateSeconds),
      loadSeconds: round(dataset.loadSeconds),
    },
    warmupDumpSeconds: round(warmup.seconds),
    goal: 'ours/baseline ≤ 1.2 for backup and for restore (p50)',
    stores: results,
    profile:
      profile === undefined
        ? undefined
        : {
            store: profile.store,
            stages: profile.stages,
            sourceFacts: { seconds: round(profile.sourceFacts.seconds), checksumSeconds: round(profile.sourceFacts.checksumSeconds) },
            restoredFacts: { seconds: round(profile.restoredFacts.seconds), checksumSeconds: round(profile.restoredFacts.checksumSeconds) },
          },
    queue,
    notes: [
      `Alternating order: odd repetitions run the baseline first, even ones ours; restores load into a second mariadbd (binary log on, as a managed cluster's writer), emptied (DROP DATABASE, RESET MASTER) before each.`,
      `Both sides dump with the script's options (${dumpOptions}), gzip at level 6 and upload with rclone; the baseline restore's row counts are checked after it, outside its time.`,
      'ours backup = dump | tee(header) | gzip | tee(sha256, size) | rclone rcat, with COUNT(*) + CHECKSUM TABLE of every table read in a consistent snapshot while the dump runs, then manifest.json.',
      'ours restore = manifest, rclone cat | tee(local file) | sha256sum, then gunzip | mariadb (the awk renaming filter between them only when renaming), then COUNT(*) + CHECKSUM TABLE of the restored tables, a session per core; the baseline streams rclone cat | gunzip | mariadb.',
      'profile: each stage timed alone on the same data; inside a pipeline they overlap, so they do not add up to a run.',
      queue === undefined ? 'queue: not measured' : `queue: process level — the operator's planStarts (src/backup/queue.ts) drives real script runs to the ${queueStore?.name} store; not through Kubernetes Jobs.`,
    ],
  };
  process.stdout.write(`${JSON.stringify(output, null, 2)}\n`);
} finally {
  await cleanUp();
}
