// MySQLCluster: a MariaDB server set. Either managed (the operator runs one
// writer and `readerCount` readers as a StatefulSet) or external (an existing
// server reached by host and port; the operator manages only its databases and
// users).
import * as s from './schema.ts';
import { backupTarget, encryption } from './backup-target.ts';
import { conditions, namespaceName, objectName, observedGeneration, type Resource } from './common.ts';

/** Fields that only mean something when the operator runs the servers itself. */
export const managedOnlyFields = [
  'readerCount',
  'replicas',
  'size',
  'persistence',
  'storageClassName',
  'image',
  'imagePullPolicy',
  'resources',
  'nodeSelector',
  'tolerations',
  'affinity',
  'priorityClassName',
  'podAnnotations',
  'podLabels',
  'myCnf',
  'replication',
  'primary',
  'bootstrapFrom',
] as const;

const maxInstances = 9;

/**
 * The MariaDB image a managed cluster runs when spec.image is not set: the
 * image this project builds (test/env/images), with the official image's
 * environment contract. The one definition; builders and docs refer to it.
 */
export const defaultMariadbImage = 'flightdeck.local/mariadb:10.11';

/** The longest managed cluster name: pod names `<name>-<ordinal>` and their controller-revision-hash label must stay within 63 characters. */
export const maxManagedClusterNameLength = 52;

/** A Service name (DNS-1035 label): what the writer Service's name must be. */
const serviceNamePattern = '^[a-z]([-a-z0-9]*[a-z0-9])?$';

/** Storage per instance when neither spec.size nor spec.persistence.size is set. */
export const defaultStorageSize = '10Gi';

/**
 * CEL for the storage size in effect: spec.size, else persistence.size, else
 * the default. Both forms count, so switching forms cannot shrink the volumes
 * unnoticed. `string()` because a quantity may be written as an integer.
 */
function effectiveSizeCel(spec: string): string {
  return `(has(${spec}.size) ? string(${spec}.size) : (has(${spec}.persistence) && has(${spec}.persistence.size) ? string(${spec}.persistence.size) : '${defaultStorageSize}'))`;
}

const external = s.object(
  {
    host: s.string({
      description: 'Host name or IP address of the existing MariaDB or MySQL server.',
      minLength: 1,
      maxLength: 253,
      pattern: '^[A-Za-z0-9]([-A-Za-z0-9.:]*[A-Za-z0-9])?$',
    }),
    port: s.integer({ description: 'TCP port of the server.', default: 3306, minimum: 1, maximum: 65535 }),
    adminSecretRef: s.object(
      { name: objectName("Name of the Secret in the cluster's namespace.") },
      {
        description:
          'Secret with keys "username" and "password" of an account that may create databases and users and grant privileges (WITH GRANT OPTION).',
        required: ['name'],
      },
    ),
    tls: s.object(
      {
        enabled: s.boolean({ description: 'Connect over TLS.', default: false }),
        caSecretRef: s.object(
          {
            name: objectName("Name of the Secret in the cluster's namespace."),
            key: s.string({ description: 'Key holding the PEM bundle. Defaults to "ca.crt".', default: 'ca.crt', maxLength: 253 }),
          },
          {
            description: "CA bundle that signs the server's certificate. Without it the system's trusted CAs are used.",
            required: ['name'],
          },
        ),
      },
      { description: 'TLS for connections to the server.' },
    ),
  },
  {
    description:
      'Use an existing server instead of running one. The operator then creates databases and users on it but does not manage the server itself. Cannot be combined with managed-server fields.',
    required: ['host', 'adminSecretRef'],
  },
);

const persistence = s.object(
  {
    enabled: s.boolean({ description: 'Accepted for compatibility; storage is always persistent.' }),
    size: s.quantity({ description: 'Storage per instance. Same as spec.size.' }),
    storageClass: s.string({ description: 'StorageClass of the volumes. Same as spec.storageClassName.', maxLength: 253 }),
    accessModes: s.array(s.string({ description: 'An access mode such as ReadWriteOnce.', maxLength: 32 }), {
      description: 'Access modes of the volumes. Defaults to ReadWriteOnce.',
      maxItems: 4,
    }),
  },
  { description: 'Deprecated form of spec.size and spec.storageClassName, as the original Flight Deck Operator accepted it.' },
);

const replication = s.object(
  {
    mode: s.enumeration(['SemiSync', 'Async'] as const, {
      description:
        'SemiSync (default): a commit returns only after a reader has the change, so a failover loses no acknowledged write. Async: faster commits, a failover may lose the last transactions.',
      default: 'SemiSync',
    }),
    allowAsyncFallback: s.boolean({
      description:
        'With SemiSync: whether the writer may stop waiting for a reader after semiSyncTimeoutSeconds and commit asynchronously. false (default): a write waits for a reader\'s acknowledgement as long as it takes, so writes stall while no reader is reachable, but a write acknowledged to a client is always on a second instance. true: writes continue when every reader is gone, at the price that a failover in that window loses the writes acknowledged since; this silent fallback is how acknowledged writes get lost when a writer is cut off.',
      default: false,
    }),
    semiSyncTimeoutSeconds: s.integer({
      description:
        'With allowAsyncFallback: how long the writer waits for a reader to acknowledge before it falls back to asynchronous replication. Ignored otherwise. Defaults to 10.',
      default: 10,
      minimum: 1,
      maximum: 3600,
    }),
    autoFailover: s.boolean({
      description: 'Promote a reader automatically when the writer fails. Defaults to true.',
      default: true,
    }),
    failoverAfterSeconds: s.integer({
      description:
        'How long the writer must be unreachable before a failover starts. Shorter means less downtime when a node dies, longer means fewer failovers for a brief network hiccup. Defaults to 3.',
      default: 3,
      minimum: 1,
      maximum: 300,
    }),
    maxReaderLagSeconds: s.integer({
      description:
        'Readers further behind the writer than this leave the reader Service until they catch up. Defaults to 10.',
      default: 10,
      minimum: 0,
      maximum: 86400,
    }),
  },
  { description: 'Replication between the writer and the readers.' },
);

const allowedNamespaces = s.object(
  {
    from: s.enumeration(['Same', 'All', 'Selector'] as const, {
      description:
        "Same (default): only this cluster's namespace. All: every namespace. Selector: namespaces whose labels match spec.allowedNamespaces.selector.",
      default: 'Same',
    }),
    selector: s.opaque({ description: 'Label selector for namespaces (matchLabels, matchExpressions), used with from: Selector.' }),
    adoptFrom: s.array(namespaceName('A namespace name.'), {
      description:
        "Namespaces, besides the cluster's own, whose MySQLDatabases and MySQLUsers may adopt databases and users that already exist on the server and that no object owns yet. Empty by default: a tenant cannot take over what it did not create.",
      maxItems: 256,
      listType: 'set',
    }),
  },
  {
    description: 'Which namespaces may attach MySQLDatabases and MySQLUsers to this cluster. Tenants in other namespaces are refused.',
    validations: [
      {
        rule: "(self.from == 'Selector') == has(self.selector)",
        message: 'selector is required with from: Selector and not allowed otherwise',
      },
    ],
  },
);

const service = s.object(
  {
    name: objectName('Name of the Service for the writer. Defaults to the cluster name.'),
    port: s.integer({ description: 'Port of the Service. Defaults to 3306.', default: 3306, minimum: 1, maximum: 65535 }),
  },
  { description: 'The Service that applications connect to; it always points at the current writer.' },
);

/**
 * A new managed cluster that starts with the data of a physical backup
 * (MySQLBackup method: physical) instead of empty. Read once, by the first
 * instance's seed init container, while the cluster has never had a writer;
 * immutable, so that it cannot be taken for a request to restore later.
 */
const bootstrapFrom = s.object(
  {
    backup: s.object(
      {
        target: backupTarget,
        path: s.string({
          description:
            "The run folder below the target's prefix: <namespace>/<backup name>/<run id>, as the source MySQLBackup's status.backups[].path shows it (for example db/nightly/20261201T020000Z).",
          minLength: 20,
          maxLength: 400,
          pattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?/[a-z0-9]([-a-z0-9.]*[a-z0-9])?/[0-9]{8}T[0-9]{6}Z$',
        }),
        encryption,
      },
      {
        description: 'A physical backup in an S3-compatible store, and its key when it is encrypted.',
        required: ['target', 'path'],
        validations: [
          {
            rule: 'has(self.target.s3)',
            message: 'a cluster is bootstrapped from an S3 target (target.s3): a PVC target cannot be mounted into the instances',
          },
        ],
      },
    ),
  },
  {
    description:
      "Start this new managed cluster from a physical backup (mariadb-backup, MySQLBackup method: physical) of another: the first instance is filled from the backup (its SHA-256 checked against the manifest first), the readers are seeded from it. The system accounts (root, replication, operator, manager) get the passwords of this cluster's own credentials Secret; application users keep the backup's. Set at creation only: it cannot be added, changed or removed later.",
    required: ['backup'],
  },
);
export type BootstrapFrom = s.TypeOf<typeof bootstrapFrom>;

export const mysqlClusterSpec = s.object(
  {
    external,
    readerCount: s.integer({
      description: 'Number of read-only replicas besides the writer. Defaults to 1.',
      minimum: 0,
      maximum: maxInstances - 1,
    }),
    replicas: s.integer({
      description: 'Deprecated: total number of instances (writer + readers), as the original operator accepted it. Use readerCount.',
      minimum: 1,
      maximum: maxInstances,
    }),
    size: s.quantity({ description: 'Storage per instance, such as 20Gi. Defaults to 10Gi. It can grow (where the StorageClass allows volume expansion) but not shrink.' }),
    persistence,
    storageClassName: s.string({ description: 'StorageClass of the volumes. Defaults to the cluster default.', maxLength: 253 }),
    image: s.string({
      description: `MariaDB container image (10.11 or later) that follows the official mariadb image's contract (MARIADB_ROOT_PASSWORD, /docker-entrypoint-initdb.d). Defaults to ${defaultMariadbImage}. A change rolls the cluster: the readers are restarted one at a time, each caught up before the next, then the writer is switched over to a restarted reader, then the old writer is restarted (condition RollingRestart shows the progress).`,
      maxLength: 512,
    }),
    imagePullPolicy: s.enumeration(['Always', 'IfNotPresent', 'Never'] as const, {
      description: 'Pull policy for the MariaDB image.',
    }),
    resources: s.opaque({ description: 'CPU and memory requests and limits of each MariaDB container (core/v1 ResourceRequirements).' }),
    nodeSelector: s.map(s.string({ description: 'Label value.', maxLength: 63 }), {
      description: 'Nodes the instances may run on, by label.',
    }),
    tolerations: s.array(s.opaque({ description: 'A core/v1 Toleration.' }), {
      description: 'Tolerations of the instance pods.',
      maxItems: 32,
    }),
    affinity: s.opaque({
      description:
        'Affinity of the instance pods (core/v1 Affinity). Without it, instances are spread across nodes: one per node (required) when the cluster has at least as many schedulable nodes as instances, preferably one per node otherwise.',
    }),
    priorityClassName: s.string({
      description: 'PriorityClass of the instance pods, so that the database is not the first to be preempted.',
      maxLength: 253,
    }),
    podAnnotations: s.map(s.string({ description: 'Annotation value.', maxLength: 65536 }), {
      description: 'Extra annotations of the instance pods.',
      maxProperties: 64,
    }),
    podLabels: s.map(s.string({ description: 'Label value.', maxLength: 63 }), {
      description: 'Extra labels of the instance pods. Labels the operator sets (app.kubernetes.io/*, flightdeck.t7.io/*) cannot be overridden.',
      maxProperties: 64,
    }),
    myCnf: s.string({
      description:
        'Extra server options in my.cnf syntax, added to the [mariadbd] section. A change is applied to the running instances: options MariaDB can change at run time (max_connections, buffer sizes, timeouts, sql_mode, slow log, … — see the docs for the list) live with SET GLOBAL and no restart; any other option by a rolling restart (readers one at a time, each caught up before the next, then a switchover, then the old writer). Options the operator relies on (server_id, log_bin, binlog_format, gtid_strict_mode, read_only, semi-synchronous replication) are set by the operator and cannot be overridden.',
      maxLength: 65536,
    }),
    replication,
    primary: s.integer({
      description:
        'Index of the instance that should be the writer (0 is the first). Changing it performs a switchover. Defaults to the current writer.',
      minimum: 0,
      maximum: maxInstances - 1,
    }),
    service,
    allowedNamespaces,
    bootstrapFrom,
  },
  {
    description: 'Desired state of the MySQLCluster.',
    validations: [
      {
        rule: `!has(self.external) || !(${managedOnlyFields.map((f) => `has(self.${f})`).join(' || ')})`,
        message: `spec.external cannot be combined with fields for a managed server (${managedOnlyFields.join(', ')})`,
        reason: 'FieldValueForbidden',
      },
      {
        rule: '!has(self.replicas) || !has(self.readerCount) || self.replicas == self.readerCount + 1',
        message: 'replicas (writer + readers) and readerCount disagree; set only readerCount',
      },
      {
        rule: '!has(self.size) || !has(self.persistence) || !has(self.persistence.size)',
        message: 'set the storage size either in size or in persistence.size, not both',
      },
      {
        rule: `!isQuantity(${effectiveSizeCel('self')}) || !isQuantity(${effectiveSizeCel('oldSelf')}) || quantity(${effectiveSizeCel('self')}).compareTo(quantity(${effectiveSizeCel('oldSelf')})) >= 0`,
        message: 'storage cannot shrink: size (or persistence.size) may grow but not become smaller than before',
        fieldPath: '.size',
      },
      {
        rule: '!has(self.primary) || self.primary <= (has(self.readerCount) ? self.readerCount : (has(self.replicas) ? self.replicas - 1 : 1))',
        message: 'primary must be the index of an existing instance (0 to readerCount)',
        fieldPath: '.primary',
      },
      {
        rule: 'has(self.bootstrapFrom) == has(oldSelf.bootstrapFrom) && (!has(self.bootstrapFrom) || self.bootstrapFrom == oldSelf.bootstrapFrom)',
        message: 'bootstrapFrom is set when the cluster is created and cannot be added, changed or removed afterwards',
        fieldPath: '.bootstrapFrom',
      },
    ],
  },
);
export type MySQLClusterSpec = s.TypeOf<typeof mysqlClusterSpec>;

const instanceStatus = s.object(
  {
    name: s.string({ description: 'Pod name of the instance.', maxLength: 253 }),
    index: s.integer({ description: 'Ordinal of the instance in the StatefulSet (spec.primary refers to it).', minimum: 0 }),
    node: s.string({ description: 'The node the instance runs on.', maxLength: 253 }),
    role: s.enumeration(['Writer', 'Reader', 'Unknown'] as const, { description: 'Current role.' }),
    ready: s.boolean({ description: 'Whether the instance serves traffic.' }),
    replicationLagSeconds: s.integer({ description: 'Seconds behind the writer (readers only).', minimum: 0 }),
    ioThreadRunning: s.boolean({ description: 'Whether the replication I/O thread runs (readers only).' }),
    sqlThreadRunning: s.boolean({ description: 'Whether the replication SQL thread runs (readers only).' }),
    gtidPosition: s.string({ description: 'Last applied GTID position.', maxLength: 4096 }),
    lastError: s.string({ description: 'Last replication error, if any.', maxLength: 4096 }),
    problem: s.string({
      description:
        'Why the instance is kept out of service, if it is: errant transactions, binary logs it needs were purged, it cannot continue replicating, … Empty when healthy.',
      maxLength: 4096,
    }),
    settingsError: s.string({
      description: 'Why a live setting of spec.myCnf could not be applied to this instance (the setting and MariaDB\'s reason); absent when all are in effect.',
      maxLength: 4096,
    }),
  },
  { description: 'Replication health of one instance.', required: ['name'] },
);

const durationSeconds = s.string({
  description: 'How long it took, in seconds with up to three decimals (milliseconds), such as "1.734". A string because CRDs discourage floating-point numbers.',
  maxLength: 32,
  pattern: '^[0-9]+([.][0-9]{1,3})?$',
});

/** A finished change of writer: lastFailover and lastSwitchover. */
const writerChange = (description: string) =>
  s.object(
    {
      time: s.string({ description: 'When it finished.', format: 'date-time' }),
      from: s.string({ description: 'The former writer (pod name).', maxLength: 253 }),
      to: s.string({ description: 'The new writer (pod name).', maxLength: 253 }),
      reason: s.string({ description: 'Why it happened.', maxLength: 1024 }),
      durationSeconds,
    },
    { description },
  );

/** Types of writer change an operation performs. */
export const operationTypes = ['Switchover', 'Failover'] as const;
export type OperationType = (typeof operationTypes)[number];

const operation = s.object(
  {
    type: s.enumeration(operationTypes, {
      description: 'Switchover: planned, the writer hands over while it still works. Failover: the writer is lost and a reader is promoted.',
    }),
    from: s.string({ description: 'The writer being replaced (pod name).', maxLength: 253 }),
    to: s.string({ description: 'The instance becoming the writer (pod name).', maxLength: 253 }),
    reason: s.string({ description: 'Why it was started.', maxLength: 1024 }),
    step: s.string({
      description: 'The step being run. Written before the step acts, so that an operator that takes over resumes exactly there.',
      maxLength: 64,
    }),
    startedAt: s.string({ description: 'When the operation started.', format: 'date-time' }),
    attempt: s.integer({ description: 'How many times the current step has been retried in a row; 0 on entering a step.', minimum: 0 }),
    message: s.string({ description: 'Why the current step was last retried, or why the operation was abandoned; absent when it was neither.', maxLength: 32768 }),
  },
  {
    description:
      'The switchover or failover in progress, absent when none is. The operator finishes it before it starts anything else, also after a restart or a change of leader.',
    required: ['type', 'to', 'step', 'startedAt'],
  },
);

export const mysqlClusterStatus = s.object(
  {
    conditions,
    observedGeneration,
    mode: s.enumeration(['Managed', 'External'] as const, { description: 'Whether the operator runs the servers.' }),
    serverVersion: s.string({ description: 'Version the writer reports.', maxLength: 256 }),
    currentPrimary: s.string({ description: 'The instance that is the writer now (pod name).', maxLength: 253 }),
    instances: s.integer({ description: 'Number of instances desired.', minimum: 0 }),
    readyInstances: s.integer({ description: 'Number of instances ready.', minimum: 0 }),
    writerEndpoint: s.string({ description: 'host:port that reaches the writer.', maxLength: 512 }),
    readerEndpoint: s.string({ description: 'host:port that reaches the readers.', maxLength: 512 }),
    instanceStatuses: s.array(instanceStatus, { description: 'Replication health per instance.', maxItems: maxInstances }),
    operation,
    lastFailover: writerChange('The last failover: an unplanned change of writer.'),
    lastSwitchover: writerChange('The last switchover: a planned change of writer (spec.primary edited, the writer\'s pod deleted or its node drained, a rolling restart).'),
  },
  { description: 'Observed state of the MySQLCluster.' },
);
export type MySQLClusterStatus = s.TypeOf<typeof mysqlClusterStatus>;

/** status.lastFailover.durationSeconds and lastSwitchover.durationSeconds from milliseconds: "1.734". */
export function durationSecondsText(milliseconds: number): string {
  if (!Number.isFinite(milliseconds) || milliseconds < 0) throw new RangeError(`a duration must be a non-negative number of milliseconds, not ${milliseconds}`);
  const text = (Math.round(milliseconds) / 1000).toFixed(3);
  // "2.000" reads better as "2", "1.500" as "1.5".
  return text.replace(/\.?0+$/, '');
}

/**
 * Validations on the whole object: a managed cluster's name becomes pod,
 * Service and StatefulSet names, which Kubernetes restricts more than object
 * names.
 */
export const mysqlClusterRootValidations: s.ValidationRule[] = [
  {
    rule: `has(self.spec.external) || (size(self.metadata.name) <= ${maxManagedClusterNameLength} && self.metadata.name.matches('${serviceNamePattern}'))`,
    message: `a managed cluster's name must start with a letter, hold only lower-case letters, digits and "-", and have at most ${maxManagedClusterNameLength} characters: it names its Services and pods`,
  },
  {
    rule: `has(self.spec.external) || !has(self.spec.service) || !has(self.spec.service.name) || (size(self.spec.service.name) <= 63 && self.spec.service.name.matches('${serviceNamePattern}'))`,
    message: 'service.name must be a Service name: start with a letter, only lower-case letters, digits and "-", at most 63 characters',
    fieldPath: '.spec.service.name',
  },
];

export type MySQLCluster = Resource<'MySQLCluster', MySQLClusterSpec, MySQLClusterStatus>;
