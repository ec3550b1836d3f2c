// MySQLCluster: a MariaDB server set. Either managed (the operator runs one
// writer and `readerCount` readers as a StatefulSet) or external (an existing
// server reached by host and port; the operator manages only its databases and
// users).
import * as s from './schema.ts';
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
  'myCnf',
  'replication',
  'primary',
] as const;

const maxInstances = 9;

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
    semiSyncTimeoutSeconds: s.integer({
      description:
        'How long the writer waits for a reader to acknowledge before it falls back to asynchronous replication. Defaults to 10.',
      default: 10,
      minimum: 1,
      maximum: 3600,
    }),
    autoFailover: s.boolean({
      description: 'Promote a reader automatically when the writer fails. Defaults to true.',
      default: true,
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
    size: s.quantity({ description: 'Storage per instance, such as 20Gi. Defaults to 10Gi.' }),
    persistence,
    storageClassName: s.string({ description: 'StorageClass of the volumes. Defaults to the cluster default.', maxLength: 253 }),
    image: s.string({ description: 'MariaDB container image. Defaults to the image the operator was released with.', maxLength: 512 }),
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
        'Affinity of the instance pods (core/v1 Affinity). Without it, instances are spread across nodes, one per node where possible.',
    }),
    myCnf: s.string({
      description: 'Extra server options in my.cnf syntax, added to the [mariadbd] section. Changes are applied by a rolling restart.',
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
        rule: '!has(self.primary) || self.primary <= (has(self.readerCount) ? self.readerCount : (has(self.replicas) ? self.replicas - 1 : 1))',
        message: 'primary must be the index of an existing instance (0 to readerCount)',
        fieldPath: '.primary',
      },
    ],
  },
);
export type MySQLClusterSpec = s.TypeOf<typeof mysqlClusterSpec>;

const instanceStatus = s.object(
  {
    name: s.string({ description: 'Pod name of the instance.', maxLength: 253 }),
    role: s.enumeration(['Writer', 'Reader', 'Unknown'] as const, { description: 'Current role.' }),
    ready: s.boolean({ description: 'Whether the instance serves traffic.' }),
    replicationLagSeconds: s.integer({ description: 'Seconds behind the writer (readers only).', minimum: 0 }),
    ioThreadRunning: s.boolean({ description: 'Whether the replication I/O thread runs (readers only).' }),
    sqlThreadRunning: s.boolean({ description: 'Whether the replication SQL thread runs (readers only).' }),
    gtidPosition: s.string({ description: 'Last applied GTID position.', maxLength: 4096 }),
    lastError: s.string({ description: 'Last replication error, if any.', maxLength: 4096 }),
  },
  { description: 'Replication health of one instance.', required: ['name'] },
);

export const mysqlClusterStatus = s.object(
  {
    conditions,
    observedGeneration,
    mode: s.enumeration(['Managed', 'External'] as const, { description: 'Whether the operator runs the servers.' }),
    serverVersion: s.string({ description: 'Version the writer reports.', maxLength: 256 }),
    currentPrimary: s.string({ description: 'The instance that is the writer now.', maxLength: 253 }),
    instances: s.integer({ description: 'Number of instances desired.', minimum: 0 }),
    readyInstances: s.integer({ description: 'Number of instances ready.', minimum: 0 }),
    writerEndpoint: s.string({ description: 'host:port that reaches the writer.', maxLength: 512 }),
    readerEndpoint: s.string({ description: 'host:port that reaches the readers.', maxLength: 512 }),
    instanceStatuses: s.array(instanceStatus, { description: 'Replication health per instance.', maxItems: maxInstances }),
    lastFailover: s.object(
      {
        time: s.string({ description: 'When the failover or switchover finished.', format: 'date-time' }),
        from: s.string({ description: 'The former writer.', maxLength: 253 }),
        to: s.string({ description: 'The new writer.', maxLength: 253 }),
        reason: s.string({ description: 'Why it happened.', maxLength: 1024 }),
      },
      { description: 'The last change of writer.' },
    ),
  },
  { description: 'Observed state of the MySQLCluster.' },
);
export type MySQLClusterStatus = s.TypeOf<typeof mysqlClusterStatus>;

export type MySQLCluster = Resource<'MySQLCluster', MySQLClusterSpec, MySQLClusterStatus>;
