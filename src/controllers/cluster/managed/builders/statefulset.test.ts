import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { MySQLCluster } from '../../../../api/mysqlcluster.ts';
import { clusterIntent, type ManagedServers } from '../../../../api/normalize.ts';
import { clusterNames } from './names.ts';
import { configChecksumAnnotation, restartChecksumAnnotation, startScript, statefulSet, type StatefulSetInput, type VolumeClaimTemplate } from './statefulset.ts';

const owner = { name: 'db', namespace: 'shop', uid: 'u-1' };

function managed(spec: MySQLCluster['spec']): ManagedServers {
  const intent = clusterIntent({ apiVersion: 'flightdeck.t7.io/v1', kind: 'MySQLCluster', metadata: { name: 'db', namespace: 'shop' }, spec });
  assert.ok(intent.managed);
  return intent.managed;
}

function build(spec: MySQLCluster['spec'], extra: Partial<StatefulSetInput> = {}) {
  const m = managed(spec);
  return statefulSet({ owner, names: clusterNames('db', m), managed: m, config: { restartChecksum: 'abc' }, nodeCount: 3, ...extra });
}

interface Container {
  name: string;
  image: string;
  imagePullPolicy?: string;
  command: string[];
  env: { name: string; valueFrom: Record<string, unknown> }[];
  resources?: unknown;
  volumeMounts: { name: string; mountPath: string }[];
  startupProbe: { failureThreshold: number; periodSeconds: number };
  livenessProbe: { failureThreshold: number; periodSeconds: number; exec: { command: string[] } };
  readinessProbe: { periodSeconds: number; exec: { command: string[] } };
}
interface PodSpec {
  containers: Container[];
  affinity: {
    podAntiAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: { topologyKey: string; labelSelector: unknown }[]; preferredDuringSchedulingIgnoredDuringExecution?: { weight: number; podAffinityTerm: { topologyKey: string } }[] };
    nodeAffinity?: unknown;
  };
  securityContext: { runAsUser: number; fsGroup: number };
  terminationGracePeriodSeconds: number;
  nodeSelector?: unknown;
  tolerations?: unknown;
  priorityClassName?: string;
  volumes: { name: string; secret?: { secretName: string; items: { key: string }[] }; configMap?: { name: string } }[];
}

function podSpec(sts: ReturnType<typeof build>): PodSpec {
  return sts.spec.template.spec as unknown as PodSpec;
}
function mariadb(sts: ReturnType<typeof build>): Container {
  const c = podSpec(sts).containers[0];
  assert.ok(c);
  return c;
}

describe('statefulSet', () => {
  it('runs readerCount + 1 instances, started together, restarted only by the operator', () => {
    const sts = build({ readerCount: 2 });
    assert.equal(sts.metadata.name, 'db');
    assert.equal(sts.metadata.ownerReferences[0]?.uid, 'u-1');
    assert.equal(sts.spec.replicas, 3);
    assert.equal(sts.spec.podManagementPolicy, 'Parallel');
    assert.deepEqual(sts.spec.updateStrategy, { type: 'OnDelete' });
    assert.equal(sts.spec.serviceName, 'db-instances');
    assert.deepEqual(sts.spec.selector.matchLabels, { 'app.kubernetes.io/name': 'mariadb', 'app.kubernetes.io/instance': 'db', 'flightdeck.t7.io/cluster': 'db' });
    // Pods start without a role: only the operator makes one the writer.
    assert.equal(sts.spec.template.metadata.labels['flightdeck.t7.io/role'], undefined);
    assert.equal(sts.spec.template.metadata.labels['app.kubernetes.io/managed-by'], 'flightdeck-operator');
  });

  it('claims spec.size of storage per instance in the given class and access modes', () => {
    const sts = build({ replicas: 3, persistence: { size: '20Gi', storageClass: 'fast', accessModes: ['ReadWriteOncePod'] } });
    assert.deepEqual(sts.spec.volumeClaimTemplates, [
      {
        metadata: { name: 'data', labels: { 'app.kubernetes.io/name': 'mariadb', 'app.kubernetes.io/instance': 'db', 'flightdeck.t7.io/cluster': 'db', 'app.kubernetes.io/managed-by': 'flightdeck-operator' } },
        spec: { accessModes: ['ReadWriteOncePod'], storageClassName: 'fast', resources: { requests: { storage: '20Gi' } } },
      },
    ]);
    assert.equal(build({}).spec.volumeClaimTemplates[0]?.spec.storageClassName, undefined, 'no class: the default StorageClass');
  });

  it('keeps the claim template of an existing StatefulSet, which Kubernetes will not change', () => {
    const existing: VolumeClaimTemplate = { metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '10Gi' } } } };
    assert.deepEqual(build({ size: '50Gi' }, { existingClaimTemplate: existing }).spec.volumeClaimTemplates, [existing]);
  });

  it('requires one instance per node when there are enough nodes, prefers it otherwise', () => {
    const required = podSpec(build({ readerCount: 2 }, { nodeCount: 3 })).affinity.podAntiAffinity;
    const [hard] = required?.requiredDuringSchedulingIgnoredDuringExecution ?? [];
    assert.ok(hard);
    assert.equal(hard.topologyKey, 'kubernetes.io/hostname');
    assert.deepEqual(hard.labelSelector, {
      matchLabels: { 'app.kubernetes.io/name': 'mariadb', 'app.kubernetes.io/instance': 'db', 'flightdeck.t7.io/cluster': 'db' },
    });
    const preferred = podSpec(build({ readerCount: 2 }, { nodeCount: 2 })).affinity.podAntiAffinity;
    assert.equal(preferred?.requiredDuringSchedulingIgnoredDuringExecution, undefined);
    const [soft] = preferred?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
    assert.ok(soft);
    assert.equal(soft.podAffinityTerm.topologyKey, 'kubernetes.io/hostname');
    assert.equal(soft.weight, 100);
  });

  it("uses the user's affinity, node selector, tolerations and priority class instead", () => {
    const affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [] } } };
    const toleration = { key: 'db', operator: 'Exists' };
    const spec = podSpec(build({ affinity, nodeSelector: { disk: 'ssd' }, tolerations: [toleration], priorityClassName: 'databases' }));
    assert.deepEqual(spec.affinity, affinity);
    assert.deepEqual(spec.nodeSelector, { disk: 'ssd' });
    assert.deepEqual(spec.tolerations, [toleration]);
    assert.equal(spec.priorityClassName, 'databases');
    const bare = podSpec(build({}));
    assert.equal(bare.nodeSelector, undefined);
    assert.equal(bare.tolerations, undefined);
    assert.equal(bare.priorityClassName, undefined);
  });

  it('runs the image as mysql with the root password from the credentials Secret and the config and initdb SQL mounted', () => {
    const sts = build({ image: 'mariadb:10.11.9', imagePullPolicy: 'Always', resources: { limits: { memory: '2Gi' } } });
    const c = mariadb(sts);
    assert.equal(c.image, 'mariadb:10.11.9');
    assert.equal(c.imagePullPolicy, 'Always');
    assert.deepEqual(c.resources, { limits: { memory: '2Gi' } });
    assert.deepEqual(c.env[0], { name: 'MARIADB_ROOT_PASSWORD', valueFrom: { secretKeyRef: { name: 'db-credentials', key: 'root-password' } } });
    assert.deepEqual(
      c.volumeMounts.map((m) => [m.name, m.mountPath]),
      [
        ['data', '/var/lib/mysql'],
        ['config', '/etc/mysql/flightdeck'],
        ['initdb', '/docker-entrypoint-initdb.d'],
        ['run', '/run/mysqld'],
      ],
    );
    const spec = podSpec(sts);
    assert.equal(spec.securityContext.runAsUser, 999);
    assert.equal(spec.securityContext.fsGroup, 999);
    assert.ok(spec.terminationGracePeriodSeconds >= 60);
    assert.equal(spec.volumes.find((v) => v.name === 'config')?.configMap?.name, 'db-config');
    assert.deepEqual(spec.volumes.find((v) => v.name === 'initdb')?.secret?.items.map((i) => i.key), ['initdb.sql']);
    assert.equal(mariadb(build({})).image, 'flightdeck.local/mariadb:10.11');
  });

  it('probes gently: a day to start (crash recovery), a minute of silence before a restart', () => {
    const c = mariadb(build({}));
    assert.ok(c.startupProbe.failureThreshold * c.startupProbe.periodSeconds >= 3600);
    assert.ok(c.livenessProbe.failureThreshold * c.livenessProbe.periodSeconds >= 60);
    // A server restarted in place serves again as soon as it answers: Ready within about two seconds, not ten.
    assert.ok(c.startupProbe.periodSeconds + c.readinessProbe.periodSeconds <= 3);
    assert.match(c.livenessProbe.exec.command.join(' '), /mariadb-admin .*ping/);
    assert.match(c.readinessProbe.exec.command.join(' '), /mariadb-admin .*ping/);
    // The password goes through the environment, never on a command line.
    assert.doesNotMatch(c.readinessProbe.exec.command.join(' '), /--password|\s-p/);
  });

  it('marks the pod template with the restart checksum and carries the user pod labels and annotations', () => {
    const sts = build({ podLabels: { team: 'web' }, podAnnotations: { 'example.com/x': 'y' } });
    assert.equal(sts.spec.template.metadata.annotations[configChecksumAnnotation], 'abc');
    assert.equal(sts.spec.template.metadata.annotations['example.com/x'], 'y');
    assert.equal(sts.spec.template.metadata.labels.team, 'web');
  });

  it('changes the restart checksum for what needs a restart, not for scheduling or pod labels', () => {
    const checksum = (spec: MySQLCluster['spec'], extra: Partial<StatefulSetInput> = {}) => build(spec, extra).spec.template.metadata.annotations[restartChecksumAnnotation];
    const base = checksum({ readerCount: 2 });
    assert.match(base ?? '', /^[0-9a-f]{64}$/);
    assert.notEqual(checksum({ readerCount: 2, image: 'mariadb:10.11.10' }), base);
    assert.notEqual(checksum({ readerCount: 2, resources: { limits: { memory: '2Gi' } } }), base);
    assert.notEqual(checksum({ readerCount: 2 }, { config: { restartChecksum: 'other' } }), base);
    assert.equal(checksum({ readerCount: 2 }, { nodeCount: 1 }), base, 'anti-affinity turning soft');
    assert.equal(checksum({ readerCount: 2, nodeSelector: { disk: 'ssd' }, tolerations: [{ key: 'x', operator: 'Exists' }], priorityClassName: 'p' }), base);
    assert.equal(checksum({ readerCount: 2, podLabels: { team: 'web' }, podAnnotations: { a: 'b' } }), base);
    assert.equal(checksum({ readerCount: 4 }), base, 'more readers restart none of the others');
    // The user's resources in another key order are the same resources.
    assert.equal(
      checksum({ resources: { limits: { memory: '2Gi', cpu: '1' } } }),
      checksum({ resources: { limits: { cpu: '1', memory: '2Gi' } } }),
    );
  });

  it('is the same for the same input', () => {
    assert.deepEqual(build({ readerCount: 2 }), build({ readerCount: 2 }));
  });
});

describe('startScript', () => {
  /** Runs the start script with a stand-in for the image's entrypoint that prints its arguments. */
  function run(env: Record<string, string>): { status: number; out: string } {
    const dir = mkdtempSync(join(tmpdir(), 'flightdeck-start-'));
    try {
      writeFileSync(join(dir, 'docker-entrypoint.sh'), '#!/bin/sh\nprintf "%s\\n" "$@"\n');
      chmodSync(join(dir, 'docker-entrypoint.sh'), 0o755);
      try {
        const out = execFileSync('sh', ['-c', startScript()], { env: { PATH: `${dir}:/usr/bin:/bin`, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
        return { status: 0, out };
      } catch (error) {
        const failed = error as { status: number; stderr: string };
        return { status: failed.status, out: failed.stderr };
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('starts mariadbd with our my.cnf first and server_id 100 + the ordinal', () => {
    assert.deepEqual(run({ FLIGHTDECK_POD_INDEX: '2', HOSTNAME: 'db-2' }), {
      status: 0,
      out: 'mariadbd\n--defaults-extra-file=/etc/mysql/flightdeck/my.cnf\n--server-id=102\n',
    });
  });

  it('falls back to the host name without the pod-index label', () => {
    assert.match(run({ FLIGHTDECK_POD_INDEX: '', HOSTNAME: 'my-db-7' }).out, /--server-id=107/);
  });

  it('refuses to start without an ordinal rather than with a duplicate server id', () => {
    const result = run({ HOSTNAME: 'not-an-instance' });
    assert.notEqual(result.status, 0);
    assert.match(result.out, /no instance ordinal/);
  });
});

describe('statefulSet replicas', () => {
  it('runs readerCount + 1 instances unless the scale decision keeps more, and retains every claim', () => {
    assert.equal(build({ readerCount: 1 }).spec.replicas, 2);
    const held = build({ readerCount: 1 }, { replicas: 3 });
    assert.equal(held.spec.replicas, 3);
    assert.deepEqual(held.spec.persistentVolumeClaimRetentionPolicy, { whenDeleted: 'Retain', whenScaled: 'Retain' });
  });
});
