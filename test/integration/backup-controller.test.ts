// The MySQLBackup controller against a real kube-apiserver and a real
// mariadbd, the operator as its own process with --backups-max-concurrent 2.
// There is no kubelet here, so Jobs never run: what is tested is what the
// operator decides and creates — the tenancy refusals, the Jobs it makes (and
// only as many as the limit allows, in queue order), and the least-privilege
// account each run logs in as, and what follows a failed attempt (a retry at
// the run's place in the queue, at most three attempts, then Failed with a
// condition, Events and metrics). Ending a Job is done by writing its status,
// as the Job controller would; the run's real work is tested by
// backup-script.test.ts, backup-interrupted.test.ts and test/e2e/backup.test.ts.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as mariadb from 'mariadb';
import { stringify } from 'yaml';
import { externalClusterManifests } from '../env/external-cluster.ts';
import { kubectl, kubectlResult, type KubectlTarget } from '../env/kubectl.ts';
import type { MariaDBInstance } from '../env/mariadb.ts';
import { operatorMetric, startOperator, stopOperator, type OperatorProcess } from '../env/operator.ts';
import { startObjectStore, type ObjectStore } from '../env/object-store.ts';
import { startTestEnvironment, stopTestEnvironment, type TestEnvironment } from '../env/shared.ts';

let env: TestEnvironment | undefined;
let operator: OperatorProcess | undefined;
let admin: mariadb.Connection | undefined;
let store: ObjectStore | undefined;

const api = 'flightdeck.t7.io/v1';
const cluster = { name: 'shared', namespace: 'db-system' };

function k(): KubectlTarget {
  if (env === undefined) throw new Error('the environment did not start');
  return env.controlPlane;
}

function apply(...manifests: object[]): void {
  kubectl(k(), ['apply', '-f', '-'], manifests.map((m) => stringify(m)).join('---\n'));
}

async function eventually<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000, explain?: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${explain === undefined ? '' : `: ${explain()}`}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

interface BackupObject {
  status?: {
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
    queued?: boolean;
    queuePosition?: number;
    queueLength?: number;
    lastRun?: { result: string; message?: string; jobName?: string; attempts?: number };
    backups?: { id: string; keptBecause?: string[] }[];
  };
}

interface JobObject {
  metadata: { name: string; labels: Record<string, string>; creationTimestamp: string };
  status?: { conditions?: unknown[] };
  spec: { template: { spec: { automountServiceAccountToken: boolean; containers: { env: { name: string; value?: string; valueFrom?: { secretKeyRef: { name: string; key: string } } }[] }[] } } };
}

function backup(name: string, databases?: string[], namespace = 'site-a'): object {
  return {
    apiVersion: api,
    kind: 'MySQLBackup',
    metadata: { name, namespace },
    spec: { cluster, ...(databases === undefined ? {} : { databases }), target: { pvc: { claimName: 'backups' } } },
  };
}

function getBackup(name: string, namespace = 'site-a'): BackupObject | undefined {
  const result = kubectlResult(k(), ['get', 'mysqlbackup', name, '-n', namespace, '-o', 'json']);
  return result.status === 0 ? (JSON.parse(result.stdout) as BackupObject) : undefined;
}

function backupJobs(namespace = 'site-a'): JobObject[] {
  const list = JSON.parse(kubectl(k(), ['get', 'jobs', '-n', namespace, '-l', 'flightdeck.t7.io/backup', '-o', 'json'])) as { items: JobObject[] };
  return list.items;
}

/** Ends a Job as the Job controller would, without a result in any pod. */
function endJob(name: string, namespace = 'site-a'): void {
  const now = new Date().toISOString();
  const status = {
    startTime: now,
    completionTime: now,
    succeeded: 1,
    conditions: [
      { type: 'SuccessCriteriaMet', status: 'True', lastProbeTime: now, lastTransitionTime: now },
      { type: 'Complete', status: 'True', lastProbeTime: now, lastTransitionTime: now },
    ],
  };
  kubectl(k(), ['patch', 'job', name, '-n', namespace, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status })]);
}

before(async () => {
  [env, store] = await Promise.all([startTestEnvironment(1), startObjectStore({ buckets: ['backups'] })]);
  const server: MariaDBInstance | undefined = env.mariadb[0];
  assert.ok(server);
  admin = await mariadb.createConnection({ host: server.host, port: server.port, user: server.adminUser, password: server.adminPassword });
  for (const ns of ['db-system', 'site-a']) kubectl(k(), ['create', 'namespace', ns]);
  apply(...externalClusterManifests(server, cluster));
  apply({ apiVersion: api, kind: 'MySQLDatabase', metadata: { name: 'site-a', namespace: 'site-a' }, spec: { cluster } });
  operator = await startOperator({
    kubeconfig: k().kubeconfig,
    dir: env.dir,
    // A resync far longer than any wait here: whatever starts or goes on does so because a trigger queued it.
    args: ['--resync-interval', '600', '--max-retry-delay', '2', '--leader-elect', 'false', '--backups-max-concurrent', '2'],
  });
});

after(async () => {
  await admin?.end();
  if (operator !== undefined) await stopOperator(operator);
  if (env !== undefined) await stopTestEnvironment(env);
  await store?.stop();
});

describe('the MySQLBackup controller', () => {
  it('refuses a database the namespace does not own, and a whole-cluster backup outside the cluster’s namespace', async () => {
    apply(backup('foreign', ['other_site']), backup('everything'));
    const foreign = await eventually('a refusal', () => getBackup('foreign')?.status?.conditions?.find((c) => c.type === 'Ready' && c.status === 'False'));
    assert.equal(foreign.reason, 'DatabaseNotOwned');
    assert.match(foreign.message ?? '', /database other_site is not owned by a MySQLDatabase in namespace site-a/);
    const everything = await eventually('a refusal', () => getBackup('everything')?.status?.conditions?.find((c) => c.type === 'Ready' && c.status === 'False'));
    assert.equal(everything.reason, 'WholeClusterNotAllowed');
    assert.deepEqual(backupJobs(), [], 'no Job for a refused backup');
    kubectl(k(), ['delete', 'mysqlbackup', 'foreign', 'everything', '-n', 'site-a']);
  });

  it('lists the backups an earlier MySQLBackup of its name left in an S3 target, and refuses what is no backup of its kind', async () => {
    assert.ok(store !== undefined);
    const folder = 'found/site-a/nightly';
    const manifest = (id: string, extra: Record<string, unknown> = {}): string =>
      JSON.stringify({
        formatVersion: 1, id, databases: ['site_a'], compression: 'gzip', encrypted: false, dataFile: 'data.sql.gz', sizeBytes: 20, sha256: 'e'.repeat(64),
        gtidPosition: '0-1-5', binlogPosition: 'mariadb-bin.000001:500', startTime: '2026-12-01T03:00:02Z', completionTime: '2026-12-01T03:00:04Z',
        tablesFromDumpSnapshot: true, tables: [], ...extra,
      });
    const client = store.client();
    try {
      await client.putObject('backups', `${folder}/20261201T030000Z/data.sql.gz`, 'x'.repeat(20));
      await client.putObject('backups', `${folder}/20261201T030000Z/manifest.json`, manifest('20261201T030000Z'));
      // Interrupted: no manifest, no backup.
      await client.putObject('backups', `${folder}/20261202T030000Z/data.sql.gz`, 'partial');
      // A files archive's manifest where a database backup belongs.
      await client.putObject('backups', `${folder}/20261130T030000Z/manifest.json`, manifest('20261130T030000Z', { kind: 'files' }));
    } finally {
      client.close();
    }
    apply(
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'found-creds', namespace: 'site-a' }, stringData: { AWS_ACCESS_KEY_ID: store.accessKeyId, AWS_SECRET_ACCESS_KEY: store.secretAccessKey } },
      {
        apiVersion: api,
        kind: 'MySQLBackup',
        metadata: { name: 'nightly', namespace: 'site-a' },
        spec: { cluster, databases: ['site_a'], schedule: '0 3 * * *', suspend: true, target: { s3: { endpoint: store.endpoint, bucket: 'backups', prefix: 'found', credentialsSecret: { name: 'found-creds' } } } },
      },
    );
    const listed = await eventually('the stored backups listed', () => (getBackup('nightly') as { status?: { backups?: Record<string, unknown>[] } } | undefined)?.status?.backups);
    assert.deepEqual(listed, [
      { id: '20261201T030000Z', time: '2026-12-01T03:00:00.000Z', completionTime: '2026-12-01T03:00:04Z', path: 'site-a/nightly/20261201T030000Z', sizeBytes: 20, sha256: 'e'.repeat(64), gtidPosition: '0-1-5', databases: ['site_a'] },
    ]);
    const reasons = await eventually('the Events', () => {
      const seen = eventReasons('nightly');
      return seen.includes('BackupsFound') && seen.includes('StoredBackupRefused') ? seen : undefined;
    });
    assert.ok(!reasons.includes('BackupListFailed'), reasons.join());
    assert.deepEqual(backupJobs().filter((j) => j.metadata.labels['flightdeck.t7.io/backup'] === 'nightly'), [], 'a suspended schedule runs nothing');
    kubectl(k(), ['delete', 'mysqlbackup', 'nightly', '-n', 'site-a', '--wait=true']);
  });

  it('a MySQLRestore that waits for its MySQLBackup starts as soon as the backup, applied again, lists its stored backups', async () => {
    assert.ok(store !== undefined);
    const id = '20261125T030000Z';
    const client = store.client();
    try {
      await client.putObject('backups', `found/site-a/later/${id}/data.sql.gz`, 'x'.repeat(20));
      await client.putObject(
        'backups',
        `found/site-a/later/${id}/manifest.json`,
        JSON.stringify({
          formatVersion: 1, id, databases: ['site_a'], compression: 'gzip', encrypted: false, dataFile: 'data.sql.gz', sizeBytes: 20, sha256: 'f'.repeat(64),
          gtidPosition: '', binlogPosition: ':', startTime: '2026-11-25T03:00:02Z', completionTime: '2026-11-25T03:00:04Z', tablesFromDumpSnapshot: true, tables: [],
        }),
      );
    } finally {
      client.close();
    }
    apply({ apiVersion: api, kind: 'MySQLRestore', metadata: { name: 'after-loss', namespace: 'site-a' }, spec: { cluster, source: { backup: { name: 'later', id } }, databases: [{ from: 'site_a', to: 'site_a' }], overwrite: true } });
    const waiting = await eventually('BackupNotFound', () => {
      const list = JSON.parse(kubectl(k(), ['get', 'mysqlrestore', 'after-loss', '-n', 'site-a', '-o', 'json'])) as BackupObject;
      return list.status?.conditions?.find((c) => c.type === 'Ready' && c.reason === 'BackupNotFound');
    });
    assert.match(waiting.message ?? '', /MySQLBackup site-a\/later does not exist/);
    apply({
      apiVersion: api,
      kind: 'MySQLBackup',
      metadata: { name: 'later', namespace: 'site-a' },
      spec: { cluster, databases: ['site_a'], schedule: '0 3 * * *', suspend: true, target: { s3: { endpoint: store.endpoint, bucket: 'backups', prefix: 'found', credentialsSecret: { name: 'found-creds' } } } },
    });
    const restoreJobs = (): JobObject[] => (JSON.parse(kubectl(k(), ['get', 'jobs', '-n', 'site-a', '-l', 'flightdeck.t7.io/restore=after-loss', '-o', 'json'])) as { items: JobObject[] }).items;
    // Well within the 10-minute resync: the backup's listing queued the restore.
    await eventually('the restore Job, long before a resync', () => (restoreJobs().length === 1 ? true : undefined), 20_000);
    kubectl(k(), ['delete', 'mysqlrestore', 'after-loss', '-n', 'site-a', '--wait=true']);
    kubectl(k(), ['delete', 'mysqlbackup', 'later', '-n', 'site-a', '--wait=true']);
  });

  it('a MySQLBackup applied before the MySQLDatabase it names starts as soon as the database is declared', async () => {
    apply(backup('early', ['site_early']));
    const refusal = await eventually('DatabaseNotOwned', () => getBackup('early')?.status?.conditions?.find((c) => c.type === 'Ready' && c.status === 'False'));
    assert.equal(refusal.reason, 'DatabaseNotOwned');
    apply({ apiVersion: api, kind: 'MySQLDatabase', metadata: { name: 'early', namespace: 'site-a' }, spec: { cluster, dbName: 'site_early' } });
    // Well within the 10-minute resync: the MySQLDatabase queued the backup.
    await eventually('its Job, long before a resync', () => backupJobs().find((j) => j.metadata.labels['flightdeck.t7.io/backup'] === 'early'), 20_000);
    kubectl(k(), ['delete', 'mysqlbackup', 'early', '-n', 'site-a', '--wait=true']);
    kubectl(k(), ['delete', 'jobs', '-l', 'flightdeck.t7.io/backup=early', '-n', 'site-a']);
    kubectl(k(), ['delete', 'mysqldatabase', 'early', '-n', 'site-a', '--wait=true']);
  });

  it('says which Secret is missing, and starts as soon as it is created', async () => {
    await eventually('database site_a', async () => ((await admin?.query<unknown[]>("SHOW DATABASES LIKE 'site_a'"))?.length === 1 ? true : undefined));
    apply({
      apiVersion: api,
      kind: 'MySQLBackup',
      metadata: { name: 'late-secret', namespace: 'site-a' },
      spec: { cluster, databases: ['site_a'], target: { s3: { endpoint: 'http://127.0.0.1:1', bucket: 'late-bucket', credentialsSecret: { name: 'late-creds' } } } },
    });
    const refusal = await eventually('SecretMissing', () => getBackup('late-secret')?.status?.conditions?.find((c) => c.type === 'Ready' && c.status === 'False'));
    assert.equal(refusal.reason, 'SecretMissing');
    assert.match(refusal.message ?? '', /Secret site-a\/late-creds \(target.s3.credentialsSecret\) does not exist/);
    assert.deepEqual(backupJobs(), [], 'no Job without its Secret');
    apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'late-creds', namespace: 'site-a' }, stringData: { AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b' } });
    await eventually('its Job, long before a resync', () => backupJobs().find((j) => j.metadata.labels['flightdeck.t7.io/backup'] === 'late-secret'), 15_000);
    kubectl(k(), ['delete', 'mysqlbackup', 'late-secret', '-n', 'site-a', '--wait=true']);
    kubectl(k(), ['delete', 'jobs', '-l', 'flightdeck.t7.io/backup=late-secret', '-n', 'site-a']);
  });

  it('starts at most two runs at once; the others wait in order, and start as slots free', async () => {
    await eventually('database site_a', async () => ((await admin?.query<unknown[]>("SHOW DATABASES LIKE 'site_a'"))?.length === 1 ? true : undefined));
    const names = ['b-one', 'b-two', 'b-three', 'b-four', 'b-five'];
    apply(...names.map((n) => backup(n, ['site_a'])));
    await eventually('two Jobs and three queued', () => {
      const queued = names.filter((n) => getBackup(n)?.status?.queued === true);
      return backupJobs().length === 2 && queued.length === 3 ? true : undefined;
    }, 30_000, () => `Jobs ${backupJobs().map((j) => j.metadata.name).join(', ')}; statuses ${names.map((n) => `${n}: ${JSON.stringify(getBackup(n)?.status)}`).join('; ')}`);
    // Held for a while: never a third.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    assert.equal(backupJobs().length, 2);
    const running = backupJobs().map((j) => j.metadata.labels['flightdeck.t7.io/backup'] ?? '');
    const waiting = names.filter((n) => !running.includes(n));
    // Positions follow the queue's order (due time, then namespace/name), whoever asked first.
    await eventually('positions 1, 2, 3 in name order', () => {
      const positions = waiting.map((n) => getBackup(n)?.status?.queuePosition);
      const byPosition = [...waiting].sort((a, b) => (getBackup(a)?.status?.queuePosition ?? 0) - (getBackup(b)?.status?.queuePosition ?? 0));
      const created = (n: string): string => kubectl(k(), ['get', 'mysqlbackup', n, '-n', 'site-a', '-o', 'jsonpath={.metadata.creationTimestamp}']);
      const inQueueOrder = [...waiting].sort((a, b) => created(a).localeCompare(created(b)) || a.localeCompare(b));
      return [...positions].sort().join() === '1,2,3' && byPosition.join() === inQueueOrder.join() ? true : undefined;
    });
    const next = waiting.find((n) => getBackup(n)?.status?.queuePosition === 1);
    assert.ok(next !== undefined);

    // A run ends without a result: the attempt failed (never a backup) and waits to be retried; the first in line starts.
    const ended = backupJobs()[0];
    assert.ok(ended);
    endJob(ended.metadata.name);
    const endedBackup = ended.metadata.labels['flightdeck.t7.io/backup'] ?? '';
    const lastRun = await eventually('the failed attempt recorded', () => {
      const run = getBackup(endedBackup)?.status?.lastRun;
      return run?.message !== undefined ? run : undefined;
    });
    assert.equal(lastRun.result, 'Running', 'a run whose attempt will be retried has not ended');
    assert.equal(lastRun.attempts, 1);
    assert.match(lastRun.message ?? '', /^attempt 1 of 3 failed \(ResultMissing: .*\); attempt 2 starts from .* at the run's place in the queue$/);
    await eventually(`${next} to start`, () => (backupJobs().some((j) => j.metadata.labels['flightdeck.t7.io/backup'] === next) ? true : undefined));
    assert.equal(backupJobs().filter((j) => (j.status?.conditions ?? []).length === 0).length, 2, 'still two running');
    const waitingNow = names.filter((n) => getBackup(n)?.status?.queued === true);
    assert.ok(waitingNow.every((n) => getBackup(n)?.status?.queueLength === waitingNow.length), 'each waiting backup shows the queue length');
  });

  it('gives each Job its own account: read-only on exactly its databases, no service account token', async () => {
    // A running one: an ended run's account is dropped already.
    const job = backupJobs().find((j) => (j.status?.conditions ?? []).length === 0);
    assert.ok(job);
    const podSpec = job.spec.template.spec;
    assert.equal(podSpec.automountServiceAccountToken, false);
    const userVar = podSpec.containers[0]?.env.find((e) => e.name === 'DB_USER');
    const secretName = userVar?.valueFrom?.secretKeyRef.name;
    assert.ok(secretName !== undefined);
    const secret = JSON.parse(kubectl(k(), ['get', 'secret', secretName, '-n', 'site-a', '-o', 'json'])) as { data: Record<string, string>; metadata: { ownerReferences: { kind: string }[] } };
    assert.equal(secret.metadata.ownerReferences[0]?.kind, 'MySQLBackup');
    const user = Buffer.from(secret.data.username ?? '', 'base64').toString();
    assert.match(user, /^fd_job_[0-9a-f]{16}$/);
    const grants = (await admin?.query<Record<string, string>[]>('SHOW GRANTS FOR ?@?', [user, '%']))?.map((row) => Object.values(row)[0] ?? '') ?? [];
    // Nothing on *.* (USAGE only): the dump's binary log position needs no global privilege.
    assert.deepEqual(grants.map((g) => g.replace(/ IDENTIFIED BY PASSWORD '[^']*'/, '')).sort(), [
      'GRANT USAGE ON *.* TO `' + user + '`@`%`',
      "GRANT SELECT, LOCK TABLES, SHOW VIEW, EVENT, TRIGGER ON `site\\_a`.* TO `" + user + "`@`%`",
    ].sort());
  });

  it('retries a failed attempt as a new Job up to three attempts, then fails the run with a condition, an Event and metrics', async () => {
    // The queue test's backups go, and so do their Jobs (no garbage collector runs here).
    kubectl(k(), ['delete', 'mysqlbackup', 'b-one', 'b-two', 'b-three', 'b-four', 'b-five', '-n', 'site-a', '--wait=true']);
    kubectl(k(), ['delete', 'jobs', '-l', 'flightdeck.t7.io/backup', '-n', 'site-a']);
    const retriedBefore = await metric('flightdeck_backup_runs_total', { result: 'retried' });
    const failedBefore = await metric('flightdeck_backup_runs_total', { result: 'failed' });
    apply(backup('flaky', ['site_a']));
    const reasons = [
      { reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' },
      { reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' },
      { reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' },
    ];
    const attemptJobs: string[] = [];
    for (const [index, why] of reasons.entries()) {
      const attempt = index + 1;
      // Attempt n+1 waits 15 s, then 30 s, after the failure of attempt n.
      const job = await eventually(`attempt ${attempt}'s Job`, () => backupJobs().find((j) => j.metadata.labels['flightdeck.t7.io/backup'] === 'flaky' && j.metadata.labels['flightdeck.t7.io/attempt'] === String(attempt)), 60_000);
      attemptJobs.push(job.metadata.name);
      await eventually(`lastRun to show attempt ${attempt}`, () => (getBackup('flaky')?.status?.lastRun?.attempts === attempt && getBackup('flaky')?.status?.lastRun?.result === 'Running' ? true : undefined));
      failJob(job.metadata.name, why.reason, why.message);
    }
    assert.equal(attemptJobs[1], `${attemptJobs[0] ?? ''}-2`);
    assert.equal(attemptJobs[2], `${attemptJobs[0] ?? ''}-3`);
    const ended = await eventually('the run given up', () => {
      const status = getBackup('flaky')?.status;
      return status?.lastRun?.result === 'Failed' ? status : undefined;
    });
    assert.equal(ended.lastRun?.attempts, 3);
    const condition = ended.conditions?.find((c) => c.type === 'LastBackupSucceeded');
    assert.ok(condition !== undefined, 'a LastBackupSucceeded condition');
    assert.equal(condition.status, 'False');
    assert.equal(condition.reason, 'Failed');
    assert.match(condition.message ?? '', /failed all 3 attempts; the last: DeadlineExceeded: Job .* failed: Job was active longer than specified deadline/);
    const events = await eventually('the Events', () => {
      const reasonsSeen = eventReasons('flaky');
      return reasonsSeen.includes('BackupFailed') ? reasonsSeen : undefined;
    });
    assert.ok(events.filter((r) => r === 'BackupAttemptFailed').length >= 1, events.join());
    assert.ok(events.includes('BackupRetried'), events.join());
    assert.equal(await metric('flightdeck_backup_runs_total', { result: 'retried' }), retriedBefore + 2);
    assert.equal(await metric('flightdeck_backup_runs_total', { result: 'failed' }), failedBefore + 1);
    assert.equal(await metric('flightdeck_backup_running'), 0);
    assert.equal(await metric('flightdeck_backup_queue_length'), 0);
    assert.equal(backupJobs().filter((j) => j.metadata.labels['flightdeck.t7.io/backup'] === 'flaky').length, 3, 'no fourth attempt');
  });

  it('gives a refused run up at once (the script’s exit 2 failed the Job through its pod failure policy)', async () => {
    apply(backup('refused', ['site_a']));
    const job = await eventually('its Job', () => backupJobs().find((j) => j.metadata.labels['flightdeck.t7.io/backup'] === 'refused'));
    failJob(job.metadata.name, 'PodFailurePolicy', 'Container work for pod site-a/x failed with exit code 2 matching FailJob rule at index 0');
    const run = await eventually('the run given up', () => {
      const lastRun = getBackup('refused')?.status?.lastRun;
      return lastRun?.result === 'Failed' ? lastRun : undefined;
    });
    assert.equal(run.attempts, 1);
    assert.match(run.message ?? '', /^attempt 1 was refused, which no retry can change: PodFailurePolicy/);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    assert.equal(backupJobs().filter((j) => j.metadata.labels['flightdeck.t7.io/backup'] === 'refused').length, 1, 'never retried');
  });

  it('records a success in status and metrics (last success, size, duration), and removes a deleted backup’s series', async () => {
    apply(backup('good', ['site_a']));
    const job = await eventually('its Job', () => backupJobs().find((j) => j.metadata.labels['flightdeck.t7.io/backup'] === 'good'));
    const result = { result: 'Completed', id: job.metadata.labels['flightdeck.t7.io/run-id']?.toUpperCase(), sizeBytes: 4321, sha256: 'ab'.repeat(32), gtidPosition: '0-1-9', databases: ['site_a'] };
    podWithResult(job.metadata.name, result);
    endJob(job.metadata.name);
    const run = await eventually('the success recorded', () => {
      const lastRun = getBackup('good')?.status?.lastRun;
      return lastRun?.result === 'Succeeded' ? lastRun : undefined;
    });
    assert.equal(run.attempts, 1);
    await eventually('the size metric', async () => ((await metric('flightdeck_backup_last_size_bytes', { namespace: 'site-a', name: 'good' })) === 4321 ? true : undefined));
    assert.ok((await metric('flightdeck_backup_last_success_timestamp_seconds', { namespace: 'site-a', name: 'good' })) > Date.now() / 1000 - 600);
    assert.ok((await metric('flightdeck_backup_duration_seconds_count', { result: 'succeeded' })) >= 1);
    assert.ok((await metric('flightdeck_backup_runs_total', { result: 'succeeded' })) >= 1);

    kubectl(k(), ['delete', 'mysqlbackup', 'good', 'flaky', 'refused', '-n', 'site-a', '--wait=true']);
    await eventually('no series of a deleted backup', async () => {
      const text = await (await fetch(`http://127.0.0.1:${operatorProcess().httpPort}/metrics`)).text();
      return /flightdeck_backup_last_(success_timestamp_seconds|size_bytes)\{[^}]*name="good"/.test(text) ? undefined : true;
    });
  });

  it('on a PVC target tells the Job which runs retention prunes, and after its success lists all but those it reports deleted', async () => {
    const listed = ['20261201T030000Z', '20261130T030000Z', '20261129T030000Z'];
    const pruning = (timeZone: string): object => ({
      apiVersion: api,
      kind: 'MySQLBackup',
      metadata: { name: 'pruning', namespace: 'site-a' },
      spec: { cluster, databases: ['site_a'], timeZone, retention: { keepLast: 2, daily: 0, weekly: 0, monthly: 0 }, target: { pvc: { claimName: 'backups' } } },
    });
    // Held by a time zone that does not exist while earlier backups are listed in its status; the fix
    // comes through the same watch after that status, so the run starts with them listed.
    apply(pruning('Mars/Olympus'));
    await eventually('InvalidSpec', () => getBackup('pruning')?.status?.conditions?.find((c) => c.type === 'Ready' && c.reason === 'InvalidSpec'));
    const backups = listed.map((id) => ({ id, time: `${id.slice(0, 4)}-${id.slice(4, 6)}-${id.slice(6, 8)}T03:00:00.000Z`, path: `site-a/pruning/${id}`, databases: ['site_a'] }));
    kubectl(k(), ['patch', 'mysqlbackup', 'pruning', '-n', 'site-a', '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { backups } })]);
    apply(pruning('UTC'));

    const job = await eventually('its Job', () => backupJobs().find((j) => j.metadata.labels['flightdeck.t7.io/backup'] === 'pruning'));
    const vars = Object.fromEntries((job.spec.template.spec.containers[0]?.env ?? []).map((e) => [e.name, e.value]));
    // keepLast 2 counts the new run: 1 December stays; the two before it go, oldest first.
    assert.equal(vars.PRUNE_RUNS, '20261129T030000Z\n20261130T030000Z');

    const runId = job.metadata.labels['flightdeck.t7.io/run-id']?.toUpperCase() ?? '';
    podWithResult(job.metadata.name, {
      result: 'Completed', id: runId, sizeBytes: 99, sha256: 'cd'.repeat(32), databases: ['site_a'],
      pruned: ['20261129T030000Z'], pruneError: 'deleting target:/backup/site-a/pruning/20261130T030000Z (its manifest.json is gone): permission denied',
    });
    endJob(job.metadata.name);
    const ended = await eventually('the success recorded', () => {
      const status = getBackup('pruning')?.status;
      return status?.lastRun?.result === 'Succeeded' ? status : undefined;
    });
    // What the Job did not delete stays listed: its data (without manifest) is still there until a later run.
    assert.deepEqual(ended.backups?.map((b) => [b.id, b.keptBecause ?? []]), [[runId, ['last']], ['20261201T030000Z', ['last']], ['20261130T030000Z', []]]);
    const reasons = await eventually('the Events', () => {
      const seen = eventReasons('pruning');
      return seen.includes('BackupsPruned') && seen.includes('PruneFailed') ? seen : undefined;
    });
    assert.ok(reasons.includes('BackupCompleted'), reasons.join());
    const events = JSON.parse(kubectl(k(), ['get', 'events', '-n', 'site-a', '--field-selector', 'involvedObject.name=pruning', '-o', 'json'])) as { items: { reason: string; message: string }[] };
    assert.equal(events.items.find((e) => e.reason === 'BackupsPruned')?.message, 'retention deleted backups 20261129T030000Z');
    assert.match(events.items.find((e) => e.reason === 'PruneFailed')?.message ?? '', /^pruning the volume target: deleting .*20261130T030000Z .*permission denied$/);
    kubectl(k(), ['delete', 'mysqlbackup', 'pruning', '-n', 'site-a', '--wait=true']);
  });
});

/** The pod the Job controller would have made, ended with the script's result line, as a kubelet would report it. */
function podWithResult(jobName: string, result: Record<string, unknown>, namespace = 'site-a'): void {
  const pod = `${jobName}-pod`;
  // No controller manager here makes the namespace's default service account, which pod admission looks up.
  if (kubectlResult(k(), ['get', 'serviceaccount', 'default', '-n', namespace]).status !== 0) kubectl(k(), ['create', 'serviceaccount', 'default', '-n', namespace]);
  kubectl(k(), ['create', '-f', '-'], JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: pod, namespace, labels: { 'batch.kubernetes.io/job-name': jobName, 'app.kubernetes.io/managed-by': 'flightdeck-operator' } },
    spec: { restartPolicy: 'Never', containers: [{ name: 'work', image: 'mariadb' }] },
  }));
  const finishedAt = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  kubectl(k(), ['patch', 'pod', pod, '-n', namespace, '--subresource=status', '--type=merge', '-p', JSON.stringify({
    status: {
      phase: 'Succeeded',
      containerStatuses: [{ name: 'work', image: 'mariadb', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed', message: JSON.stringify(result), startedAt: finishedAt, finishedAt } } }],
    },
  })]);
}

function operatorProcess(): OperatorProcess {
  if (operator === undefined) throw new Error('the operator did not start');
  return operator;
}

function metric(name: string, where: Readonly<Record<string, string>> = {}): Promise<number> {
  return operatorMetric(operatorProcess(), name, where);
}

/** Fails a Job as the Job controller would (FailureTarget, then Failed). */
function failJob(name: string, reason: string, message: string, namespace = 'site-a'): void {
  const now = new Date().toISOString();
  const status = {
    startTime: now,
    failed: 1,
    conditions: [
      { type: 'FailureTarget', status: 'True', reason, message, lastProbeTime: now, lastTransitionTime: now },
      { type: 'Failed', status: 'True', reason, message, lastProbeTime: now, lastTransitionTime: now },
    ],
  };
  kubectl(k(), ['patch', 'job', name, '-n', namespace, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status })]);
}

/** The reasons of the Events about MySQLBackup `name`, oldest first. */
function eventReasons(name: string, namespace = 'site-a'): string[] {
  const list = JSON.parse(kubectl(k(), ['get', 'events', '-n', namespace, '--field-selector', `involvedObject.name=${name}`, '-o', 'json'])) as { items: { reason: string }[] };
  return list.items.map((e) => e.reason);
}
