// A site's namespace deleted and its objects applied again, as a Velero
// restore of the namespace would (objects without status, a new empty
// volume), then its data and files restored from the backups made before —
// on the local cluster with the operator installed by its chart
// (test/env/operator-cluster.ts: the shared one under ./scripts/test, else
// two nodes of its own), its backups.jitterSeconds set to 5 for this file so
// that a schedule fires within seconds of its minute.
//
// The site namespace holds what a Velero backup of it would: its Secrets, a
// MySQLDatabase with deletionPolicy Delete (deleting the namespace drops the
// data), a MySQLUser, the PVC its pod writes uploads to, the pod, and the
// nightly MySQLBackup and VolumeBackup to S3. They are one list, in the
// order a Velero restore creates them (a MySQLBackup before the
// MySQLDatabase it names), applied again unchanged after the namespace is
// gone. The re-applied backup objects
// list the backups already in their S3 folder (found-backups.ts), so
// restores that name them by id find the old runs; the tables' row counts and
// CHECKSUM TABLE, read as the app user with the re-applied Secret's password,
// and every file's path, size, mode, owner, time and sha256 are those
// recorded before the deletion.
//
// The pod's own command only holds the volume: its files are written by
// `kubectl exec` (the site writing uploads), so that the same pod manifest,
// applied again, starts on an empty volume as a restored site would.
//
// The tests depend on each other in order. Timings are printed as
// `# site restore e2e: …` lines.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { apiVersion } from '../../src/api/common.ts';
import { formatRunId } from '../../src/backup/manifest.ts';
import type { RunningLocalCluster } from '../env/cluster/cluster.ts';
import { devOperatorRelease } from '../env/devcluster.ts';
import { applyObjects, conditionOf, eventually, getObject, type Condition } from '../env/e2e-objects.ts';
import { mariadbImageName } from '../env/images/images.ts';
import { kubectl, kubectlResult, waitForReady, type KubectlResult } from '../env/kubectl.ts';
import { operatorDeployment, writerPod } from '../env/managed-cluster.ts';
import { operatorCluster, releaseOperatorCluster, type OperatorCluster } from '../env/operator-cluster.ts';
import { putBackOperatorValues, setOperatorValues } from '../env/operator-values.ts';
import { entryLines, volumeListingScript } from '../env/volume-listing.ts';

const dbNamespace = 'velero-db';
const site = 'velero-site';
const clusterName = 'shared';
const writerHost = `${clusterName}.${dbNamespace}.svc.cluster.local`;
const dbName = 'site_wp';
const appUser = 'wp';
const appPassword = randomBytes(18).toString('base64url');
/** A prefix of this run's own: on the shared cluster the store keeps what earlier runs of this file stored under the same names. */
const prefix = `velero-${randomBytes(3).toString('hex')}`;
/** Rows each table of the site gets (about 200 bytes to 1 KB each). */
const tables = { wp_posts: 3000, wp_postmeta: 6000, wp_options: 400 } as const;
const totalRows = Object.values(tables).reduce((sum, n) => sum + n, 0);
const jitterSeconds = 5;

let target: OperatorCluster | undefined;
let cluster: RunningLocalCluster;
const plane = (): RunningLocalCluster['controlPlane'] => cluster.controlPlane;
/** The release's values before this file changed them; undefined until it does. */
let valuesBefore: string | undefined;

function note(what: string, value: string): void {
  process.stdout.write(`# site restore e2e: ${what}: ${value} (load average ${(loadavg()[0] ?? 0).toFixed(1)})\n`);
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

interface ListedBackup {
  id: string;
  path: string;
  fileCount?: number;
  contentSha256?: string;
}

interface Watched {
  status?: {
    conditions?: Condition[];
    readyInstances?: number;
    nextScheduleTime?: string;
    lastRun?: { id: string; result: string; message?: string; durationSeconds?: string; fileCount?: number; contentSha256?: string };
    backups?: ListedBackup[];
    restored?: { database: string; from?: string; tables?: number; rows?: number; checksumsMatch?: boolean }[];
    fileCount?: number;
    contentSha256?: string;
    verified?: boolean;
  };
}

function watched(kind: string, name: string, namespace = site): Watched | undefined {
  return getObject(plane(), kind, name, namespace) as Watched | undefined;
}

function s3Target(): unknown {
  const store = cluster.objectStore;
  return { s3: { endpoint: store.endpoint, bucket: 'backups', prefix, credentialsSecret: { name: 's3-creds' } } };
}

/** The site pod: the MariaDB image (for its client), the uploads volume at /data, the app's database settings from the Secret. It exits at once when stopped. */
function sitePod(): unknown {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'site', namespace: site },
    spec: {
      securityContext: { runAsUser: 0, runAsGroup: 0 },
      containers: [
        {
          name: 'site',
          image: mariadbImageName,
          imagePullPolicy: 'IfNotPresent',
          command: ['bash', '-c', 'trap "exit 0" TERM; sleep infinity & wait'],
          env: [
            { name: 'DB_HOST', value: writerHost },
            { name: 'DB_USER', value: appUser },
            { name: 'DB_NAME', value: dbName },
            { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'wp-db-password', key: 'password' } } },
          ],
          volumeMounts: [{ name: 'uploads', mountPath: '/data' }],
        },
      ],
      volumes: [{ name: 'uploads', persistentVolumeClaim: { claimName: 'uploads' } }],
    },
  };
}

/** The site itself: its namespace, Secrets, database, user, uploads volume and pod. */
function siteItself(): unknown[] {
  const store = cluster.objectStore;
  const dbCluster = { name: clusterName, namespace: dbNamespace };
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: site } },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's3-creds', namespace: site }, stringData: { AWS_ACCESS_KEY_ID: store.accessKeyId, AWS_SECRET_ACCESS_KEY: store.secretAccessKey } },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'wp-db-password', namespace: site }, stringData: { password: appPassword } },
    { apiVersion, kind: 'MySQLDatabase', metadata: { name: 'wp', namespace: site }, spec: { cluster: dbCluster, dbName, deletionPolicy: 'Delete' } },
    {
      apiVersion,
      kind: 'MySQLUser',
      metadata: { name: 'wp', namespace: site },
      spec: { cluster: dbCluster, username: appUser, passwordSecretRef: { name: 'wp-db-password', key: 'password' }, privileges: [{ database: dbName, grant: 'ALL' }] },
    },
    { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'uploads', namespace: site }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } },
    sitePod(),
  ];
}

/** The site's nightly backups of its database and its uploads, at the daily time `schedule`. */
function nightlyBackups(schedule: string): unknown[] {
  return [
    {
      apiVersion,
      kind: 'MySQLBackup',
      metadata: { name: 'nightly-db', namespace: site },
      spec: { cluster: { name: clusterName, namespace: dbNamespace }, databases: [dbName], schedule, timeZone: 'UTC', target: s3Target(), activeDeadlineSeconds: 600 },
    },
    {
      apiVersion,
      kind: 'VolumeBackup',
      metadata: { name: 'nightly-files', namespace: site },
      spec: { source: { claimName: 'uploads' }, schedule, timeZone: 'UTC', target: s3Target(), activeDeadlineSeconds: 600 },
    },
  ];
}

/**
 * Velero's default restore order: these kinds first, in this order
 * (customresourcedefinitions … limitranges, pods, replicasets), then every
 * other resource alphabetically — so a MySQLBackup comes back before the
 * MySQLDatabase it names, and a VolumeBackup last.
 */
const veleroFirst = ['namespaces', 'persistentvolumeclaims', 'secrets', 'configmaps', 'serviceaccounts', 'limitranges', 'pods'];

/** `objects` in the order a Velero restore creates them. */
function inVeleroOrder(objects: readonly unknown[]): unknown[] {
  const resource = (object: unknown): string => {
    const { kind, apiVersion: version } = object as { kind: string; apiVersion: string };
    const group = version.includes('/') ? `.${version.slice(0, version.indexOf('/'))}` : '';
    return `${kind.toLowerCase()}s${group}`;
  };
  const rank = (object: unknown): number => {
    const index = veleroFirst.indexOf(resource(object));
    return index === -1 ? veleroFirst.length : index;
  };
  return [...objects].sort((a, b) => rank(a) - rank(b) || (resource(a) < resource(b) ? -1 : resource(a) > resource(b) ? 1 : 0));
}

/** Runs `script` with bash in the site pod. */
function inSitePod(script: string, ...args: string[]): KubectlResult {
  return kubectlResult(plane(), ['exec', 'site', '-n', site, '-c', 'site', '--', 'bash', '-c', script, 'script', ...args]);
}

/** SQL as the app user through the cluster's writer Service, with the password the pod got from the Secret; tab-separated rows. */
function appSql(sql: string): KubectlResult {
  return inSitePod('MYSQL_PWD="$DB_PASSWORD" exec mariadb -h "$DB_HOST" -u "$DB_USER" -N -B "$DB_NAME" -e "$1"', sql);
}

function appSqlOk(sql: string): string {
  const result = appSql(sql);
  assert.equal(result.status, 0, `${sql} as ${appUser}: ${result.stderr}`);
  return result.stdout.trim();
}

/** SQL as root over the local socket of the cluster's writer pod; tab-separated rows. */
function rootSql(sql: string): string {
  const pod = writerPod(plane(), dbNamespace, clusterName)?.metadata.name;
  assert.ok(pod !== undefined, 'no writer pod');
  const result = kubectlResult(plane(), [
    'exec', pod, '-n', dbNamespace, '-c', 'mariadb', '--',
    'sh', '-c', 'MYSQL_PWD="$MARIADB_ROOT_PASSWORD" exec mariadb --user=root --protocol=socket -N -B -e "$1"', 'sql', sql,
  ]);
  assert.equal(result.status, 0, `${sql} on ${pod}: ${result.stderr}`);
  return result.stdout.trim();
}

/** "table rows checksum" of each table, read as the app user (which proves it can log in). */
function fingerprint(): string[] {
  const names = Object.keys(tables);
  const out = appSqlOk(names.map((table) => `SELECT COUNT(*) FROM ${table}; CHECKSUM TABLE ${table}`).join('; ')).split('\n');
  return names.map((table, i) => {
    const rows = out[2 * i] ?? '?';
    const [checked = '', checksum = '?'] = (out[2 * i + 1] ?? '').split('\t');
    assert.equal(checked, `${dbName}.${table}`, `CHECKSUM TABLE answered for ${table}: ${out.join(' | ')}`);
    return `${table} ${rows} ${checksum}`;
  });
}

/** The site's uploads as the site pod sees them. */
function siteListing(): string[] {
  const result = inSitePod(volumeListingScript);
  assert.equal(result.status, 0, `listing /data: ${result.stderr}`);
  return entryLines(result.stdout);
}

/** What the site uploaded: 320 files of 0–40 kB in nested folders (about 6 MB), WordPress's owner on the uploads, other modes, a link, an old time. */
const uploadScript = `set -euo pipefail
cd /data
mkdir -p wp-content/uploads/2026/11 wp-content/uploads/2026/12 wp-content/themes/flight/assets wp-content/plugins/deck/lib/inc
for i in $(seq 1 320); do
  case $((i % 4)) in 0) dir=wp-content/uploads/2026/11 ;; 1) dir=wp-content/uploads/2026/12 ;; 2) dir=wp-content/themes/flight/assets ;; *) dir=wp-content/plugins/deck/lib/inc ;; esac
  head -c $(( (i * 7919) % 40000 )) /dev/urandom > "$dir/file-$i.bin"
done
printf 'define("DB_NAME", "site_wp");\\n' > wp-config.php
ln -s wp-content/uploads/2026 uploads-2026
chown -R 33:33 wp-content/uploads
chmod 640 wp-config.php
chmod 750 wp-content/plugins/deck/lib
touch -d '2021-06-07 08:09:10' wp-content/themes/flight/assets/file-2.bin
`;

function jobNames(): string[] {
  return kubectl(plane(), ['get', 'jobs', '-n', site, '-o', 'name']).split('\n').filter((line) => line !== '');
}

/** The messages of Events with `reason` about `name` in the site namespace. */
function eventMessages(reason: string, name: string): string[] {
  const list = JSON.parse(kubectl(plane(), ['get', 'events', '-n', site, '--field-selector', `reason=${reason},involvedObject.name=${name}`, '-o', 'json'])) as { items: { message?: string }[] };
  return list.items.map((e) => e.message ?? '');
}

/** `wait`, whose timeout also tells what `kind` `name` showed last (its status), so a failure says what the operator said. */
async function tellingStatus<T>(kind: string, name: string, wait: Promise<T>): Promise<T> {
  try {
    return await wait;
  } catch (error) {
    throw new Error(`${error instanceof Error ? error.message : String(error)}; ${kind} ${name} showed ${JSON.stringify(watched(kind, name)?.status)}`, { cause: error });
  }
}

/** Waits until a MySQLRestore or VolumeRestore has Complete or Failed True. */
async function restoreEnded(kind: string, name: string): Promise<Watched> {
  return tellingStatus(
    kind,
    name,
    eventually(`${kind} ${name} to end`, 600_000, () => {
      const object = watched(kind, name);
      return conditionOf(object, 'Complete')?.status === 'True' || conditionOf(object, 'Failed')?.status === 'True' ? object : undefined;
    }),
  );
}

describe('a site namespace deleted and applied again (as Velero restores it), then its data and files restored', { timeout: 2_400_000 }, () => {
  let objects: unknown[] = [];
  let due = new Date(0);
  let recordedFiles: string[] = [];
  let recordedTables: string[] = [];
  let dbRunId = '';
  let filesRunId = '';
  let filesContentSha256 = '';

  before(async () => {
    const started = performance.now();
    target = await operatorCluster(2);
    cluster = target.cluster;
    note(`${target.shared ? 'the shared' : 'a 2-node'} cluster with the operator installed by its chart`, seconds(performance.now() - started));
  });

  after(async () => {
    const problems = putBackOperatorValues(plane(), valuesBefore);
    if (target?.shared === true) {
      // Gone while the database cluster still runs: the MySQLDatabase's and MySQLUser's finalizers drop them on it.
      const deleted = kubectlResult(plane(), ['delete', 'namespace', site, '--ignore-not-found', '--timeout=180s']);
      if (deleted.status !== 0) problems.push(`deleting namespace ${site}: ${deleted.stderr.trim()}`);
    }
    await releaseOperatorCluster(target, [site, dbNamespace]);
    assert.deepEqual(problems, [], 'the operator and the shared cluster are left as this file found them');
  });

  it('a managed cluster that admits every namespace is Ready, and the operator jitters backups by at most 5 s', async () => {
    const started = performance.now();
    valuesBefore = setOperatorValues(plane(), { 'backups.jitterSeconds': jitterSeconds });
    const args = kubectl(plane(), ['get', 'deployment', operatorDeployment, '-n', devOperatorRelease.namespace, '-o', 'jsonpath={.spec.template.spec.containers[0].args}']);
    assert.match(args, new RegExp(`"--backups-jitter=${jitterSeconds}"`), 'the operator runs with the new jitter');
    applyObjects(plane(), [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: dbNamespace } },
      { apiVersion, kind: 'MySQLCluster', metadata: { name: clusterName, namespace: dbNamespace }, spec: { size: '1Gi', readerCount: 1, allowedNamespaces: { from: 'All' } } },
    ]);
    await waitForReady(plane(), 'mysqlcluster', dbNamespace, clusterName, { timeoutMs: 600_000 });
    await eventually('2 instances ready', 300_000, () => (watched('mysqlcluster', clusterName, dbNamespace)?.status?.readyInstances === 2 ? true : undefined));
    note('database cluster of two Ready', seconds(performance.now() - started));
  });

  it('the site namespace holds its Secrets, database, user, uploads volume, pod and nightly backups; the site uploads files', async () => {
    const started = performance.now();
    applyObjects(plane(), inVeleroOrder(siteItself()));
    await waitForReady(plane(), 'mysqldatabase', site, 'wp', { timeoutMs: 120_000 });
    await waitForReady(plane(), 'mysqluser', site, 'wp', { timeoutMs: 120_000 });
    kubectl(plane(), ['wait', '--for=condition=Ready', 'pod/site', '-n', site, '--timeout=240s']);
    const uploaded = inSitePod(uploadScript);
    assert.equal(uploaded.status, 0, `uploading files: ${uploaded.stderr}`);
    // Everything a Velero backup of the namespace holds, in the order a
    // Velero restore creates them; the same list is applied again after the
    // namespace is gone. The backups are due at the next minute at least
    // 40 s away: time to write the rows before they run.
    due = new Date(Math.ceil((Date.now() + 40_000) / 60_000) * 60_000);
    objects = inVeleroOrder([...siteItself(), ...nightlyBackups(`${due.getUTCMinutes()} ${due.getUTCHours()} * * *`)]);
    applyObjects(plane(), objects);
    for (const name of ['nightly-db', 'nightly-files']) {
      const kind = name === 'nightly-db' ? 'mysqlbackup' : 'volumebackup';
      const ready = await waitForReady<Watched>(plane(), kind, site, name, { timeoutMs: 60_000 });
      assert.equal(ready.status?.nextScheduleTime, due.toISOString(), `${name} is due at the next minute`);
      assert.deepEqual(ready.status.backups ?? [], [], `${name}: a new folder holds no backups`);
    }
    note('site objects Ready and files uploaded', seconds(performance.now() - started));
  });

  it('rows written as the app user and the files are recorded; both scheduled runs succeed', async () => {
    for (const [table, rows] of Object.entries(tables)) {
      appSqlOk(`CREATE TABLE ${table} (id INT PRIMARY KEY, name VARCHAR(64) NOT NULL, body TEXT NOT NULL, KEY (name))`);
      appSqlOk(
        `SET SESSION max_recursive_iterations = 100000; INSERT INTO ${table} WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < ${rows}) SELECT n, CONCAT('${table}-', n), REPEAT(MD5(CONCAT('${table}', n)), 1 + n % 30) FROM s`,
      );
    }
    recordedTables = fingerprint();
    assert.deepEqual(
      recordedTables.map((line) => line.split(' ').slice(0, 2).join(' ')),
      Object.entries(tables).map(([table, rows]) => `${table} ${rows}`),
    );
    assert.ok(recordedTables.every((line) => /^\S+ \d+ \d+$/.test(line)), recordedTables.join('; '));
    recordedFiles = siteListing();
    const files = recordedFiles.filter((line) => line.startsWith('f\t'));
    assert.equal(files.length, 321, 'the 320 uploads and wp-config.php');
    const bytes = files.reduce((sum, line) => sum + Number((line.split('\t')[2] ?? '').split(' ')[0]), 0);
    assert.ok(bytes > 5_000_000, `a few MB uploaded (${bytes} bytes)`);
    assert.ok(recordedFiles.includes('l\t./uploads-2026\twp-content/uploads/2026'));
    assert.ok(recordedFiles.some((line) => line.startsWith('f\t./wp-content/uploads/2026/12/file-1.bin\t') && line.includes(' 644 33:33 ')));
    assert.ok(recordedFiles.some((line) => line.startsWith('f\t./wp-config.php\t') && line.includes(' 640 0:0 ')));
    assert.ok(recordedFiles.includes('d\t./wp-content/plugins/deck/lib\t750 0:0'));
    assert.ok(recordedFiles.some((line) => line.startsWith('f\t./wp-content/themes/flight/assets/file-2.bin\t') && line.includes(` ${Date.UTC(2021, 5, 7, 8, 9, 10) / 1000}\t`)));
    note('rows and files recorded, before the due minute by', seconds(due.getTime() - Date.now()));
    assert.ok(Date.now() < due.getTime(), `the site's data was written before the backups were due at ${due.toISOString()}`);

    const runId = formatRunId(due);
    for (const [kind, name] of [['mysqlbackup', 'nightly-db'], ['volumebackup', 'nightly-files']] as const) {
      const done = await tellingStatus(
        kind,
        name,
        eventually(`${name} to finish its run ${runId}`, 600_000, () => {
          const object = watched(kind, name);
          const run = object?.status?.lastRun;
          return run?.id !== runId || run.result === 'Running' ? undefined : object;
        }),
      );
      const run = done.status?.lastRun;
      assert.equal(run?.result, 'Succeeded', `${name}: ${JSON.stringify(run)}`);
      const newest = done.status?.backups?.[0];
      assert.equal(newest?.id, runId, `${name} lists its run`);
      assert.equal(newest.path, `${site}/${name}/${runId}`);
      note(`${name}: scheduled run ${runId}`, `${run.durationSeconds ?? '?'} s`);
      if (kind === 'mysqlbackup') dbRunId = newest.id;
      else {
        filesRunId = newest.id;
        assert.equal(run.fileCount, recordedFiles.length, 'the run archived every entry');
        filesContentSha256 = run.contentSha256 ?? '';
      }
    }
    assert.equal(dbRunId, runId);
    assert.equal(filesRunId, runId);
    assert.match(filesContentSha256, /^[0-9a-f]{64}$/);
  });

  it('deleting the site namespace drops its database and its user', async () => {
    const started = performance.now();
    kubectl(plane(), ['delete', 'namespace', site, '--timeout=300s']);
    await eventually(`namespace ${site} gone`, 120_000, () => (kubectlResult(plane(), ['get', 'namespace', site]).status === 0 ? undefined : true));
    note('namespace deletion', seconds(performance.now() - started));
    assert.equal(rootSql(`SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '${dbName}'`), '0', `${dbName} is dropped`);
    assert.equal(rootSql(`SELECT COUNT(*) FROM mysql.user WHERE User = '${appUser}'`), '0', `${appUser} is dropped`);
    // The app's own login, through the writer Service, with the password it had.
    const pod = writerPod(plane(), dbNamespace, clusterName)?.metadata.name ?? '';
    const login = kubectlResult(plane(), [
      'exec', pod, '-n', dbNamespace, '-c', 'mariadb', '--',
      'sh', '-c', 'MYSQL_PWD="$1" exec mariadb -h "$2" -u "$3" -N -B -e "SELECT 1"', 'login', appPassword, writerHost, appUser,
    ]);
    assert.notEqual(login.status, 0, 'the user cannot log in');
    assert.match(login.stderr, /Access denied for user 'wp'/);
  });

  it('applied again, the objects come back Ready with an empty volume, and the backups list the runs made before, starting none', async () => {
    const started = performance.now();
    applyObjects(plane(), objects);
    await waitForReady(plane(), 'mysqldatabase', site, 'wp', { timeoutMs: 180_000 });
    await waitForReady(plane(), 'mysqluser', site, 'wp', { timeoutMs: 180_000 });
    kubectl(plane(), ['wait', '--for=condition=Ready', 'pod/site', '-n', site, '--timeout=240s']);
    const listed = new Map<string, Watched>();
    for (const [kind, name] of [['mysqlbackup', 'nightly-db'], ['volumebackup', 'nightly-files']] as const) {
      listed.set(
        name,
        await tellingStatus(
          kind,
          name,
          eventually(`${name} to list the backups found in its folder`, 180_000, () => {
            const object = watched(kind, name);
            return conditionOf(object, 'Ready')?.status === 'True' && (object?.status?.backups?.length ?? 0) > 0 ? object : undefined;
          }),
        ),
      );
    }
    note('re-applied → database, user, pod Ready and backups listed', seconds(performance.now() - started));
    assert.deepEqual(siteListing(), [], 'the new volume is empty');
    assert.equal(rootSql(`SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '${dbName}'`), '0', `${dbName} is back, without tables`);
    const runId = formatRunId(due);
    for (const [name, object] of listed) {
      assert.deepEqual(object.status?.backups?.map((b) => `${b.id} ${b.path}`), [`${runId} ${site}/${name}/${runId}`], `${name} lists the run made before`);
      assert.equal(object.status.lastRun, undefined, `${name} has not run`);
      const found = eventMessages('BackupsFound', name);
      assert.equal(found.length, 1, `one BackupsFound Event for ${name}: ${found.join(' | ')}`);
      assert.match(found[0] ?? '', new RegExp(`listed 1 complete backup\\(s\\) found in the target, the newest ${runId}`));
      // Its next run is tomorrow's, not the one due before it was made.
      assert.equal(object.status.nextScheduleTime, new Date(due.getTime() + 86_400_000).toISOString(), `${name}'s next run is tomorrow`);
    }
    const files = listed.get('nightly-files')?.status?.backups?.[0];
    assert.equal(files?.fileCount, recordedFiles.length);
    assert.equal(files.contentSha256, filesContentSha256);
    // More than the jitter later, still no Job: nothing ran.
    await new Promise((resolve) => setTimeout(resolve, (jitterSeconds + 5) * 1000));
    assert.deepEqual(jobNames(), [], 'no backup Job started');
  });

  it('a MySQLRestore and a VolumeRestore naming the re-applied backups by id complete', async () => {
    const started = performance.now();
    applyObjects(plane(), [
      {
        apiVersion,
        kind: 'MySQLRestore',
        metadata: { name: 'db-from-nightly', namespace: site },
        spec: { cluster: { name: clusterName, namespace: dbNamespace }, source: { backup: { name: 'nightly-db', id: dbRunId } }, activeDeadlineSeconds: 600 },
      },
      // Into the volume the running site pod holds: the Job is pinned to its node and moves the files into place beside it.
      {
        apiVersion,
        kind: 'VolumeRestore',
        metadata: { name: 'files-from-nightly', namespace: site },
        spec: { source: { backup: { name: 'nightly-files', id: filesRunId } }, target: { claimName: 'uploads' }, activeDeadlineSeconds: 600 },
      },
    ]);
    const ends = await Promise.all([
      restoreEnded('mysqlrestore', 'db-from-nightly').then((object) => ({ object, ms: performance.now() - started })),
      restoreEnded('volumerestore', 'files-from-nightly').then((object) => ({ object, ms: performance.now() - started })),
    ]);
    const [db, files] = ends;
    note('MySQLRestore to Complete', seconds(db.ms));
    note('VolumeRestore to Complete', seconds(files.ms));
    assert.equal(conditionOf(db.object, 'Complete')?.status, 'True', JSON.stringify(db.object.status));
    assert.deepEqual(db.object.status?.restored, [{ database: dbName, from: dbName, tables: Object.keys(tables).length, rows: totalRows, checksumsMatch: true }]);
    const complete = conditionOf(files.object, 'Complete');
    assert.equal(complete?.status, 'True', JSON.stringify(files.object.status));
    assert.equal(complete.reason, 'Verified');
    assert.equal(files.object.status?.verified, true);
    assert.equal(files.object.status.fileCount, recordedFiles.length);
    assert.equal(files.object.status.contentSha256, filesContentSha256);
  });

  it('the app user logs in with the re-applied Secret and reads the tables as they were; the files are those recorded', () => {
    const secret = kubectl(plane(), ['get', 'secret', 'wp-db-password', '-n', site, '-o', 'jsonpath={.data.password}']);
    assert.equal(Buffer.from(secret, 'base64').toString('utf8'), appPassword, 'the re-applied Secret holds the password');
    assert.deepEqual(fingerprint(), recordedTables);
    assert.deepEqual(siteListing(), recordedFiles);
  });
});
