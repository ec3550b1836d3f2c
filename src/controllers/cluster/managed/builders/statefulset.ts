// The StatefulSet that runs a managed cluster's MariaDB instances.
//
// The operator, not the StatefulSet controller, decides when a pod restarts
// (updateStrategy OnDelete): a rolling restart takes the readers first, one at
// a time and each caught up before the next, then switches the writer over,
// then restarts the old writer. Pods start all at once (Parallel): instance 2
// need not wait for instance 1, replication is set up by the operator.
import { createHash } from 'node:crypto';
import type { ManagedServers } from '../../../../api/normalize.ts';
import type { ServerConfig } from './config.ts';
import { myCnfKey } from './config.ts';
import { clusterLabels, selectorLabels } from './labels.ts';
import { credentialKeys, mariadbContainer, type ClusterNames } from './names.ts';
import { childMetadata, type ChildMetadata, type ClusterOwner } from './owner.ts';
import { donorSidecar, podInfoVolume, seedInitContainer } from './seed.ts';

/** Pod template annotation: sha256 of the configuration that needs a restart (config.ts). A pod whose value differs from the StatefulSet's is due a restart. */
export const configChecksumAnnotation = 'flightdeck.t7.io/config-checksum';

/**
 * Pod template annotation: sha256 of everything in the pod that only a
 * restart applies: the configuration checksum, the container (image,
 * command, environment, resources, probes, mounts), the volumes and the
 * security context. A pod whose value differs from the StatefulSet
 * template's is due a restart. Scheduling (affinity, tolerations, node
 * selector, priority class) and the pod's labels and annotations are left
 * out: they matter only when a pod is next scheduled, and rolling a database
 * for them would be a needless switchover.
 */
export const restartChecksumAnnotation = 'flightdeck.t7.io/restart-checksum';

/** server_id of the instance with ordinal 0; instance n has serverIdBase + n. Unique within a cluster and stable across restarts. */
export const serverIdBase = 100;

/** Where the pod reads my.cnf (the ConfigMap, updated in place by the kubelet) and the initdb SQL. */
export const paths = {
  data: '/var/lib/mysql',
  config: '/etc/mysql/flightdeck',
  initdb: '/docker-entrypoint-initdb.d',
  socketDir: '/run/mysqld',
} as const;

/** The MariaDB image's uid and gid for mysql (the official image's, and ours). */
const mysqlUid = 999;

/**
 * Seconds mariadbd gets to shut down cleanly after SIGTERM. A clean shutdown
 * flushes InnoDB; a kill in the middle means crash recovery at the next start,
 * which is slower than waiting. The writer has normally been switched away
 * before its pod is deleted, so this delays no write.
 */
export const terminationGracePeriodSeconds = 120;

export interface VolumeClaimTemplate {
  metadata: { name: string; labels?: Record<string, string> };
  spec: {
    accessModes: string[];
    storageClassName?: string;
    resources: { requests: { storage: string } };
  };
}

export interface StatefulSetInput {
  readonly owner: ClusterOwner;
  readonly names: ClusterNames;
  readonly managed: ManagedServers;
  readonly config: Pick<ServerConfig, 'restartChecksum'>;
  /**
   * Schedulable nodes the instances may run on (matching spec.nodeSelector).
   * With at least one per instance, instances are required to run on
   * different nodes; with fewer, spreading is only preferred, so that every
   * instance can still start. The choice is part of the pod template: a
   * change of it alone does not need a restart (compare the config checksum
   * and the image to decide that, not the template revision).
   */
  readonly nodeCount: number;
  /**
   * The volume claim template of the existing StatefulSet, if there is one.
   * Kubernetes refuses changes to it, so it is kept as it is; a larger
   * spec.size is applied by expanding each PVC instead.
   */
  readonly existingClaimTemplate?: VolumeClaimTemplate;
  /** spec.replicas when it must differ from the desired instances (scale.ts: the writer still on an ordinal being removed). */
  readonly replicas?: number;
}

type Json = Record<string, unknown>;

export interface StatefulSetManifest {
  apiVersion: 'apps/v1';
  kind: 'StatefulSet';
  metadata: ChildMetadata;
  spec: {
    replicas: number;
    serviceName: string;
    podManagementPolicy: 'Parallel';
    updateStrategy: { type: 'OnDelete' };
    persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain'; whenScaled: 'Retain' };
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string>; annotations: Record<string, string> }; spec: Json };
    volumeClaimTemplates: VolumeClaimTemplate[];
  };
}

/** The volume claim template a new StatefulSet gets. */
export function claimTemplate(owner: ClusterOwner, managed: ManagedServers): VolumeClaimTemplate {
  return {
    metadata: { name: 'data', labels: { ...clusterLabels(owner.name) } },
    spec: {
      accessModes: [...managed.accessModes],
      ...(managed.storageClassName === undefined ? {} : { storageClassName: managed.storageClassName }),
      resources: { requests: { storage: managed.storageSize } },
    },
  };
}

/** Instances on different nodes: required when there are enough nodes, preferred otherwise; and preferably in different zones. */
export function defaultAffinity(cluster: string, instances: number, nodeCount: number): Json {
  const term = (topologyKey: string) => ({ labelSelector: { matchLabels: { ...selectorLabels(cluster) } }, topologyKey });
  const zones = { weight: 50, podAffinityTerm: term('topology.kubernetes.io/zone') };
  if (nodeCount >= instances) {
    return {
      podAntiAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [term('kubernetes.io/hostname')],
        preferredDuringSchedulingIgnoredDuringExecution: [zones],
      },
    };
  }
  return {
    podAntiAffinity: {
      preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: term('kubernetes.io/hostname') }, zones],
    },
  };
}

/**
 * The container's command: the image's entrypoint (which initialises an
 * empty data directory, creating the accounts from the initdb SQL) running
 * mariadbd with our my.cnf read last and server_id from the pod's ordinal.
 * The ordinal comes from the pod-index label (downward API), or from the
 * host name, which a StatefulSet sets to the pod name `<cluster>-<ordinal>`.
 */
export function startScript(): string {
  return [
    'set -eu',
    'ordinal="${FLIGHTDECK_POD_INDEX:-${HOSTNAME##*-}}"',
    'case "$ordinal" in',
    `  ''|*[!0-9]*) echo "flightdeck: no instance ordinal in pod-index label or host name ($HOSTNAME)" >&2; exit 1 ;;`,
    'esac',
    // --defaults-extra-file must be mariadbd's first option.
    `exec docker-entrypoint.sh mariadbd --defaults-extra-file=${paths.config}/${myCnfKey} --server-id="$((${serverIdBase} + ordinal))"`,
  ].join('\n');
}

/**
 * Health checks through the local socket. `mariadb-admin ping` succeeds as
 * soon as the server answers, also with a refused login, so a changed root
 * password never fails it; root's password is passed only to avoid an
 * "Access denied" line in the error log at every probe.
 */
function ping(timeoutSeconds: number): string[] {
  return ['sh', '-c', `MYSQL_PWD="$MARIADB_ROOT_PASSWORD" exec mariadb-admin --user=root --protocol=socket --connect-timeout=${timeoutSeconds} ping`];
}

/** How long a writer being deleted waits for the operator to hand its role over before it stops anyway. */
export const handOverSeconds = 60;

/**
 * The preStop hook: a pod that is deleted (kubectl delete pod, a rollout)
 * keeps serving until the operator has moved the writer away, so deleting
 * the writer's pod is a switchover, not a failover. It returns at once for a
 * server with no replica connected (a reader, or a cluster of one: nobody to
 * hand over to) and for one that is read-only and replicating (a reader, or
 * a former writer the operator has made one); otherwise it waits, at most
 * handOverSeconds, so a pod is never kept alive by an operator that is gone.
 */
export function handOverScript(): string {
  const sql = (statement: string): string => `MYSQL_PWD="$MARIADB_ROOT_PASSWORD" mariadb --user=root --protocol=socket --connect-timeout=2 -N -B -e "${statement}"`;
  return [
    'i=0',
    `while [ "$i" -lt ${handOverSeconds} ]; do`,
    `  replicas="$(${sql('SHOW SLAVE HOSTS')})" || exit 0`,
    '  [ -z "$replicas" ] && exit 0',
    `  [ "$(${sql('SELECT @@read_only')})" = 1 ] && [ -n "$(${sql('SHOW SLAVE STATUS')})" ] && exit 0`,
    '  i=$((i + 1))',
    '  sleep 1',
    'done',
  ].join('\n');
}

function container(input: StatefulSetInput): Json {
  const { managed, names } = input;
  return {
    name: mariadbContainer.name,
    image: managed.image,
    ...(managed.imagePullPolicy === undefined ? {} : { imagePullPolicy: managed.imagePullPolicy }),
    command: ['sh', '-c', startScript()],
    ports: [{ name: mariadbContainer.portName, containerPort: mariadbContainer.port, protocol: 'TCP' }],
    env: [
      { name: 'MARIADB_ROOT_PASSWORD', valueFrom: { secretKeyRef: { name: names.credentialsSecret, key: credentialKeys.rootPassword } } },
      { name: 'FLIGHTDECK_POD_INDEX', valueFrom: { fieldRef: { fieldPath: "metadata.labels['apps.kubernetes.io/pod-index']" } } },
    ],
    ...(managed.resources === undefined ? {} : { resources: managed.resources }),
    volumeMounts: [
      { name: 'data', mountPath: paths.data },
      { name: 'config', mountPath: paths.config, readOnly: true },
      { name: 'initdb', mountPath: paths.initdb, readOnly: true },
      { name: 'run', mountPath: paths.socketDir },
    ],
    // Until the first answer: initialising a data directory, or InnoDB crash
    // recovery after a kill, can take long on a large database. Killing the
    // server then would only start the recovery again, so the startup probe
    // allows a day. It asks every second: a writer whose server the kubelet
    // restarted in place (killed, out of memory) takes writes again only once
    // its pod is Ready, and with a 10 s period that alone cost up to 10 s.
    startupProbe: { exec: { command: ping(2) }, periodSeconds: 1, timeoutSeconds: 2, failureThreshold: 86_400 },
    // After that, restart only a server that has not answered for a minute.
    livenessProbe: { exec: { command: ping(5) }, periodSeconds: 10, timeoutSeconds: 10, failureThreshold: 6 },
    // Ready: answers on its socket. Whether it serves reads (lag, replication
    // health) is the operator's call, through the serves-reads label. The
    // first readiness answer after startup comes at this period, so it is short too.
    readinessProbe: { exec: { command: ping(2) }, periodSeconds: 2, timeoutSeconds: 5, failureThreshold: 3 },
    lifecycle: { preStop: { exec: { command: ['sh', '-c', handOverScript()] } } },
    securityContext: { allowPrivilegeEscalation: false, runAsNonRoot: true, capabilities: { drop: ['ALL'] } },
  };
}

/** JSON with object keys sorted, so that equal values hash equally whatever order their keys were written in. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function statefulSet(input: StatefulSetInput): StatefulSetManifest {
  const { owner, names, managed } = input;
  const scheduling = managed.scheduling;
  const restartRelevant: Json = {
    // The pods never talk to the Kubernetes API; and with many Services in a
    // namespace, service links would fill the environment.
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    terminationGracePeriodSeconds,
    securityContext: {
      runAsUser: mysqlUid,
      runAsGroup: mysqlUid,
      fsGroup: mysqlUid,
      // Large volumes: change ownership only when the root of the volume is wrong.
      fsGroupChangePolicy: 'OnRootMismatch',
      runAsNonRoot: true,
    },
    // A new instance (and one being rebuilt) is seeded from a copy of a
    // healthy one, served by every instance's donor endpoint (seed.ts).
    initContainers: [seedInitContainer({ ...input, mounts: paths })],
    containers: [container(input), donorSidecar({ ...input, mounts: paths })],
    volumes: [
      { name: 'config', configMap: { name: names.configMap } },
      {
        name: 'initdb',
        secret: { secretName: names.credentialsSecret, items: [{ key: credentialKeys.initdbSql, path: '10-flightdeck-accounts.sql' }], defaultMode: 0o440 },
      },
      { name: 'run', emptyDir: {} },
      podInfoVolume(),
    ],
  };
  const restartChecksum = createHash('sha256')
    .update(canonicalJson({ config: input.config.restartChecksum, pod: restartRelevant }))
    .digest('hex');
  const podSpec: Json = {
    ...restartRelevant,
    affinity: scheduling.affinity ?? defaultAffinity(owner.name, managed.instances, input.nodeCount),
    ...(scheduling.nodeSelector === undefined ? {} : { nodeSelector: { ...scheduling.nodeSelector } }),
    ...(scheduling.tolerations.length === 0 ? {} : { tolerations: [...scheduling.tolerations] }),
    ...(scheduling.priorityClassName === undefined ? {} : { priorityClassName: scheduling.priorityClassName }),
  };
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: childMetadata(owner, names.statefulSet, clusterLabels(owner.name)),
    spec: {
      replicas: input.replicas ?? managed.instances,
      serviceName: names.instancesService,
      podManagementPolicy: 'Parallel',
      updateStrategy: { type: 'OnDelete' },
      // Nothing is dropped by surprise: scaling readers down or deleting the cluster keeps the volumes.
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
      selector: { matchLabels: { ...selectorLabels(owner.name) } },
      template: {
        metadata: {
          // The user's labels first: ours win (normalize.ts refuses theirs under our prefixes anyway).
          labels: { ...managed.podLabels, ...clusterLabels(owner.name) },
          annotations: {
            ...managed.podAnnotations,
            [configChecksumAnnotation]: input.config.restartChecksum,
            [restartChecksumAnnotation]: restartChecksum,
            'kubectl.kubernetes.io/default-container': mariadbContainer.name,
          },
        },
        spec: podSpec,
      },
      volumeClaimTemplates: [input.existingClaimTemplate ?? claimTemplate(owner, managed)],
    },
  };
}
