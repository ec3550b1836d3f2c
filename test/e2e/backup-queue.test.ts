// Thirty scheduled backups due in the same minute under the cluster-wide
// limit of 2, on the local cluster with the operator installed by its chart
// (test/env/operator-cluster.ts: the shared one under ./scripts/test, else
// one node of its own), its values changed to backups.maxConcurrent 2 and
// backups.jitterSeconds 20 (the default 300 would make the test wait five
// minutes for the last start) and put back after; a MariaDB server under an
// external MySQLCluster, thirty MySQLBackups to the cluster's S3 store.
// Each run's Job is recorded from its creation (the slot taken) to its
// Complete condition (the slot freed): never more than 2 overlap, all 30
// complete, and the Jobs are created in queue order — jittered due time,
// then namespace/name — with no run started while one ahead of it waited.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { apiVersion } from '../../src/api/common.ts';
import { formatRunId } from '../../src/backup/manifest.ts';
import { jitteredStart } from '../../src/backup/schedule.ts';
import type { RunningLocalCluster } from '../env/cluster/cluster.ts';
import { applyObjects, eventually, type Condition as BaseCondition } from '../env/e2e-objects.ts';
import { kubectl, kubectlResult } from '../env/kubectl.ts';
import { operatorCluster, releaseOperatorCluster, type OperatorCluster } from '../env/operator-cluster.ts';
import { putBackOperatorValues, setOperatorValues } from '../env/operator-values.ts';
import { lateBackupReport } from './late-backup-report.ts';
import { mariadbServerManifests } from './mariadb-manifests.ts';

let target: OperatorCluster | undefined;
let cluster: RunningLocalCluster;
const plane = (): RunningLocalCluster['controlPlane'] => cluster.controlPlane;
const suffix = randomBytes(3).toString('hex');
const namespace = `e2e-queue-${suffix}`;
const runs = 30;
const limit = 2;
const jitterSeconds = 20;
const names = Array.from({ length: runs }, (_, i) => `q-${String(i).padStart(2, '0')}`);
/** The release's user-supplied values (`helm get values -o json`) before this file changed them; undefined until it does. */
let valuesBefore: string | undefined;

function apply(objects: readonly unknown[]): void {
  applyObjects(plane(), objects);
}

interface Condition extends BaseCondition {
  lastTransitionTime?: string;
}

interface BackupObject {
  metadata: { name: string };
  status?: { conditions?: Condition[]; queued?: boolean; queuePosition?: number; queueLength?: number; lastRun?: { id: string; result: string; attempts?: number; message?: string } };
}

interface JobObject {
  metadata: { name: string; creationTimestamp: string; labels: Record<string, string> };
  status?: { conditions?: Condition[]; completionTime?: string };
}

function backups(): BackupObject[] {
  return (JSON.parse(kubectl(plane(), ['get', 'mysqlbackups', '-n', namespace, '-o', 'json'])) as { items: BackupObject[] }).items;
}

function jobs(): JobObject[] {
  return (JSON.parse(kubectl(plane(), ['get', 'jobs', '-n', namespace, '-l', 'flightdeck.t7.io/backup', '-o', 'json'])) as { items: JobObject[] }).items;
}

function condition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type && c.status === 'True');
}

/** Most intervals [start, end) that hold one instant: intervals ending at an instant do not meet those starting at it. */
function mostAtOnce(intervals: readonly { start: number; end: number }[]): number {
  const edges = intervals.flatMap((i) => [
    { at: i.start, change: 1 },
    { at: i.end, change: -1 },
  ]);
  edges.sort((a, b) => a.at - b.at || a.change - b.change);
  let now = 0;
  let most = 0;
  for (const edge of edges) {
    now += edge.change;
    most = Math.max(most, now);
  }
  return most;
}

/** What the test saw of one backup while the runs went on, polled every second: for a failure's message. */
interface Seen {
  /** When status first said queued (ms). */
  queuedAt?: number;
  /** Ready reasons other than Ready, each with when it was first seen (ms). */
  readonly notReady: Map<string, number>;
}

function offset(ms: number | undefined, from: number): string {
  return ms === undefined ? '—' : `${((ms - from) / 1000).toFixed(1)} s`;
}

describe('thirty scheduled backups in the same minute under a limit of two', { timeout: 1_800_000 }, () => {
  before(async () => {
    target = await operatorCluster(1);
    cluster = target.cluster;
  });

  after(async () => {
    const problems = putBackOperatorValues(plane(), valuesBefore);
    if (target?.shared === true) {
      // Deleted while their cluster's server still runs: each drops its Job account and its finalizer goes.
      const deleted = kubectlResult(plane(), ['delete', 'mysqlbackups', '--all', '-n', namespace, '--ignore-not-found', '--timeout=180s']);
      if (deleted.status !== 0) problems.push(`deleting the MySQLBackups: ${deleted.stderr.trim()}`);
    }
    await releaseOperatorCluster(target, [namespace]);
    assert.deepEqual(problems, [], 'the operator is left as this file found it');
  });

  it('runs a MariaDB server, the operator (limit 2, jitter 20 s) and a database', async () => {
    const rootPassword = randomBytes(12).toString('base64url');
    apply([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }]);
    apply([
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'mariadb-admin', namespace }, stringData: { username: 'root', password: rootPassword } },
      ...mariadbServerManifests({ namespace, instance: 'queue', rootPassword: { secret: 'mariadb-admin', key: 'password' } }),
    ]);
    valuesBefore = setOperatorValues(plane(), { 'backups.maxConcurrent': limit, 'backups.jitterSeconds': jitterSeconds });
    kubectl(plane(), ['rollout', 'status', 'statefulset/mariadb', '-n', namespace, '--timeout=180s']);
    const store = cluster.objectStore;
    apply([
      {
        apiVersion,
        kind: 'MySQLCluster',
        metadata: { name: 'shared', namespace },
        spec: { external: { host: `mariadb.${namespace}.svc.cluster.local`, port: 3306, adminSecretRef: { name: 'mariadb-admin' } } },
      },
      { apiVersion, kind: 'MySQLDatabase', metadata: { name: 'shop', namespace }, spec: { cluster: { name: 'shared' }, dbName: 'site_shop' } },
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's3-creds', namespace }, stringData: { AWS_ACCESS_KEY_ID: store.accessKeyId, AWS_SECRET_ACCESS_KEY: store.secretAccessKey } },
    ]);
    await eventually('MySQLDatabase shop to be Ready', 120_000, () => {
      const db = JSON.parse(kubectl(plane(), ['get', 'mysqldatabase', 'shop', '-n', namespace, '-o', 'json'])) as { status?: { conditions?: Condition[] } };
      return condition(db.status?.conditions, 'Ready') === undefined ? undefined : true;
    });
  });

  it('never runs more than two at once, completes all thirty, and starts them in queue order', async (t) => {
    // The next minute at least 40 s away: time to create the thirty before it.
    const due = new Date(Math.ceil((Date.now() + 40_000) / 60_000) * 60_000);
    const schedule = `${due.getUTCMinutes()} ${due.getUTCHours()} * * *`;
    const store = cluster.objectStore;
    apply(
      names.map((name) => ({
        apiVersion,
        kind: 'MySQLBackup',
        metadata: { name, namespace },
        spec: {
          cluster: { name: 'shared' },
          databases: ['site_shop'],
          schedule,
          timeZone: 'UTC',
          target: { s3: { endpoint: store.endpoint, bucket: 'backups', prefix: `queue-${suffix}`, credentialsSecret: { name: 's3-creds' } } },
          activeDeadlineSeconds: 600,
        },
      })),
    );
    const runId = formatRunId(due);
    // Watched while they run: the queue as status shows it.
    let longestQueue = 0;
    const positionsSeen = new Set<number>();
    const seen = new Map(names.map((name): [string, Seen] => [name, { notReady: new Map() }]));
    let highestLoad = 0;
    await eventually(`all ${runs} runs of ${runId} to end`, 1_200_000, () => {
      highestLoad = Math.max(highestLoad, loadavg()[0] ?? 0);
      const now = Date.now();
      const list = backups();
      for (const b of list) {
        const record = seen.get(b.metadata.name);
        const ready = b.status?.conditions?.find((c) => c.type === 'Ready');
        if (record !== undefined && ready !== undefined && ready.status !== 'True' && !record.notReady.has(ready.reason ?? '')) record.notReady.set(ready.reason ?? '', now);
        if (b.status?.queued === true) {
          if (record !== undefined) record.queuedAt ??= now;
          longestQueue = Math.max(longestQueue, b.status.queueLength ?? 0);
          if (b.status.queuePosition !== undefined) positionsSeen.add(b.status.queuePosition);
        }
      }
      const ended = list.filter((b) => b.status?.lastRun?.id === runId && b.status.lastRun.result !== 'Running');
      return ended.length === runs ? true : undefined;
    });
    const list = backups();
    const failed = list.filter((b) => b.status?.lastRun?.result !== 'Succeeded');
    assert.deepEqual(failed.map((b) => `${b.metadata.name}: ${JSON.stringify(b.status?.lastRun)}`), [], 'all thirty complete');
    for (const b of list) assert.equal(b.status?.lastRun?.attempts, 1, `${b.metadata.name} needed no retry`);

    const recorded = jobs().map((job) => {
      const complete = condition(job.status?.conditions, 'Complete');
      const end = job.status?.completionTime ?? complete?.lastTransitionTime;
      assert.ok(end !== undefined, `Job ${job.metadata.name} has an end`);
      return { backup: job.metadata.labels['flightdeck.t7.io/backup'] ?? '', start: Date.parse(job.metadata.creationTimestamp), end: Date.parse(end) };
    });
    assert.equal(recorded.length, runs, 'one Job per run');
    assert.equal(mostAtOnce(recorded), limit, `never more than ${limit} at once, and the slots were used`);

    // Queue order: jittered due time, then namespace/name (what the operator sorts by).
    const startAt = (name: string): number => jitteredStart(due, `${namespace}/${name}`, jitterSeconds).getTime();
    const expected = [...names].sort((a, b) => startAt(a) - startAt(b) || (a < b ? -1 : a > b ? 1 : 0));
    const startOf = new Map(recorded.map((r) => [r.backup, r.start]));
    const endOf = new Map(recorded.map((r) => [r.backup, r.end]));
    /** Every run in queue order, from the due minute: may start, first seen queued, Job created, Job ended, and any not-Ready reasons seen. */
    const timeline = (): string =>
      expected
        .map((name) => {
          const record = seen.get(name);
          const reasons = [...(record?.notReady ?? [])].map(([reason, at]) => `${reason} at ${offset(at, due.getTime())}`).join(', ');
          return `  ${name}: may start ${offset(startAt(name), due.getTime())}, queued ${offset(record?.queuedAt, due.getTime())}, Job ${offset(startOf.get(name), due.getTime())} – ${offset(endOf.get(name), due.getTime())}${reasons === '' ? '' : `, not Ready: ${reasons}`}`;
        })
        .join('\n');
    // Creation times have whole seconds: those in one second cannot be told apart, later ones must not come first.
    for (let i = 1; i < expected.length; i++) {
      const ahead = expected[i - 1] ?? '';
      const later = expected[i] ?? '';
      const inOrder = (startOf.get(ahead) ?? Infinity) <= (startOf.get(later) ?? -Infinity);
      // The report is gathered only for a failure: it reads Events and the operator's logs.
      assert.ok(
        inOrder,
        inOrder
          ? ''
          : `${ahead} (ahead in the queue) started at ${new Date(startOf.get(ahead) ?? 0).toISOString()}, after ${later} at ${new Date(startOf.get(later) ?? 0).toISOString()}\n` +
              `runs in queue order (times after the due minute ${due.toISOString()}):\n${timeline()}\n${lateBackupReport(plane(), namespace, ahead)}`,
      );
    }
    // Thirty arrive within 20 s while two run at a time: most of them wait at some point.
    assert.ok(longestQueue >= runs / 3, `status showed the queue length (longest ${longestQueue})`);
    assert.ok(positionsSeen.has(1), 'a waiting run showed queuePosition 1');

    const first = Math.min(...recorded.map((r) => r.start));
    const last = Math.max(...recorded.map((r) => r.end));
    const summed = recorded.reduce((sum, r) => sum + (r.end - r.start), 0);
    t.diagnostic(
      `${runs} runs, limit ${limit}: first start ${((first - due.getTime()) / 1000).toFixed(0)} s after the due minute, makespan ${((last - first) / 1000).toFixed(0)} s against ${(summed / 1000).toFixed(0)} s of summed run time (${(summed / limit / 1000).toFixed(0)} s over ${limit} slots); longest queue shown ${longestQueue}; load average (1 min) up to ${highestLoad.toFixed(1)} while they ran`,
    );
  });
});
