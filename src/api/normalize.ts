// The one place where the three kinds' specs — canonical fields and the
// original Flight Deck Operator's forms alike — become what the controllers
// act on. Defaults that depend on other fields or on metadata.name live here
// rather than in the CRD, so that both forms mean the same thing.
import { defaultMariadbImage, defaultStorageSize, maxManagedClusterNameLength, type BootstrapFrom, type MySQLCluster } from './mysqlcluster.ts';
import type { MySQLDatabase } from './mysqldatabase.ts';
import type { MySQLUser } from './mysqluser.ts';
import type { DeletionPolicy } from './common.ts';
import {
  charsetName,
  collationName,
  databaseName,
  hostName,
  isValid,
  systemDatabases,
  tableName,
  userName,
  type IdentifierRule,
} from '../mysql/identifiers.ts';
import { isKnownPrivilege, normalizePrivilege } from '../mysql/privileges.ts';
import { reservedUserNames } from '../mysql/bootstrap-accounts.ts';
import { jobAccountPrefix } from '../mysql/job-accounts.ts';

/** A spec the controllers cannot act on; the message is shown in the Ready condition. */
export class InvalidSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidSpecError';
  }
}

export interface ClusterKey {
  readonly namespace: string;
  readonly name: string;
}

export const defaultCharset = 'utf8mb4';
export const defaultCollation = 'utf8mb4_unicode_ci';
/** Key of the password in a Secret named by the original operator's `passwordSecret`. */
export const legacyPasswordKey = 'db-pass.txt';

function check(rule: IdentifierRule, value: string, field: string): string {
  if (!isValid(rule, value)) {
    throw new InvalidSpecError(`${field} ${JSON.stringify(value)} is not a valid ${rule.what}: use ${rule.explanation}`);
  }
  return value;
}

/** metadata.name as a MariaDB name, as the original operator derived it. */
function nameFromMetadata(name: string): string {
  return name.replaceAll('-', '_');
}

export function clusterKeyOf(object: { metadata: { namespace?: string }; spec: { cluster: { name: string; namespace?: string } } }): ClusterKey {
  return { namespace: object.spec.cluster.namespace ?? object.metadata.namespace ?? 'default', name: object.spec.cluster.name };
}

// ---------------------------------------------------------------- clusters

export interface ExternalServer {
  readonly host: string;
  readonly port: number;
  readonly adminSecretName: string;
  readonly tls: { readonly enabled: boolean; readonly caSecret?: { name: string; key: string } };
}

export interface NamespaceSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

export interface TenancyPolicy {
  readonly from: 'Same' | 'All' | 'Selector';
  readonly selector?: NamespaceSelector;
  /** Namespaces besides the cluster's own whose objects may adopt unowned databases and users. */
  readonly adoptFrom: readonly string[];
}

/** Replication settings of a managed cluster, defaults applied. */
export interface ReplicationSettings {
  readonly mode: 'SemiSync' | 'Async';
  /** With SemiSync: fall back to asynchronous after semiSyncTimeoutSeconds (true) or wait for a reader as long as it takes (false). */
  readonly allowAsyncFallback: boolean;
  /** Only meaningful with allowAsyncFallback. */
  readonly semiSyncTimeoutSeconds: number;
  readonly autoFailover: boolean;
  /** How long the writer must be unreachable before a failover. */
  readonly failoverAfterSeconds: number;
  /** Readers further behind leave the reader Service. */
  readonly maxReaderLagSeconds: number;
}

/** Where instance pods may run. Kubernetes' own types, passed through as the user wrote them. */
export interface Scheduling {
  readonly nodeSelector?: Readonly<Record<string, string>>;
  readonly tolerations: readonly Record<string, unknown>[];
  /** When set, replaces the default spreading across nodes. */
  readonly affinity?: Record<string, unknown>;
  readonly priorityClassName?: string;
}

/** What a managed cluster runs: everything the object builders need, defaults applied. */
export interface ManagedServers {
  /** Readers besides the writer. */
  readonly readers: number;
  /** readers + 1: the StatefulSet's replicas. */
  readonly instances: number;
  /** Storage per instance, a Kubernetes quantity such as "20Gi". */
  readonly storageSize: string;
  /** Absent: the cluster's default StorageClass. */
  readonly storageClassName?: string;
  readonly accessModes: readonly string[];
  readonly image: string;
  readonly imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  /** core/v1 ResourceRequirements of the MariaDB container, as given. */
  readonly resources?: Record<string, unknown>;
  readonly scheduling: Scheduling;
  readonly podAnnotations: Readonly<Record<string, string>>;
  readonly podLabels: Readonly<Record<string, string>>;
  /** The user's extra server options (my.cnf syntax); empty when none. */
  readonly myCnf: string;
  readonly replication: ReplicationSettings;
  /** spec.primary: the instance index that should be the writer; absent means "whichever is the writer now". */
  readonly desiredPrimaryIndex?: number;
  /** The writer Service. */
  readonly serviceName: string;
  readonly servicePort: number;
  /** spec.bootstrapFrom.backup: the physical backup the first instance starts from, in a cluster that never had a writer. */
  readonly bootstrapFrom?: BootstrapFrom['backup'];
}

export interface ClusterIntent {
  readonly key: ClusterKey;
  /** Exactly one of external and managed is set. */
  readonly external?: ExternalServer;
  readonly managed?: ManagedServers;
  readonly tenancy: TenancyPolicy;
}

export function clusterIntent(cluster: MySQLCluster): ClusterIntent {
  const spec = cluster.spec;
  const key = { namespace: cluster.metadata.namespace ?? 'default', name: cluster.metadata.name };
  const allowed = spec.allowedNamespaces;
  const tenancy: TenancyPolicy = {
    from: allowed?.from ?? 'Same',
    ...(allowed?.selector === undefined ? {} : { selector: allowed.selector }),
    adoptFrom: allowed?.adoptFrom ?? [],
  };
  if (spec.external !== undefined) {
    const ext = spec.external;
    const caSecret = ext.tls?.caSecretRef;
    return {
      key,
      tenancy,
      external: {
        host: ext.host,
        port: ext.port ?? 3306,
        adminSecretName: ext.adminSecretRef.name,
        tls: {
          enabled: ext.tls?.enabled ?? false,
          ...(caSecret === undefined ? {} : { caSecret: { name: caSecret.name, key: caSecret.key ?? 'ca.crt' } }),
        },
      },
    };
  }
  return { key, tenancy, managed: managedServers(cluster) };
}

/** Label keys the operator sets on instance pods; spec.podLabels cannot override them. */
const reservedLabelPrefixes = ['app.kubernetes.io/', 'flightdeck.t7.io/'];

function managedServers(cluster: MySQLCluster): ManagedServers {
  const spec = cluster.spec;
  const name = cluster.metadata.name;
  // The CRD refuses these too; checked again for objects stored before it did.
  if (name.length > maxManagedClusterNameLength || !/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(name)) {
    throw new InvalidSpecError(
      `metadata.name ${JSON.stringify(name)} cannot name a managed cluster: it must start with a letter, hold only lower-case letters, digits and "-", and have at most ${maxManagedClusterNameLength} characters`,
    );
  }
  // replicas counted the writer too; readerCount does not.
  const readers = spec.readerCount ?? (spec.replicas === undefined ? 1 : spec.replicas - 1);
  const size = spec.size ?? spec.persistence?.size ?? defaultStorageSize;
  const storageClassName = spec.storageClassName ?? spec.persistence?.storageClass;
  const serviceName = spec.service?.name ?? name;
  // The instance and reader Services are named after the cluster; the writer's must differ.
  for (const taken of [`${name}-instances`, `${name}-readers`]) {
    if (serviceName === taken) throw new InvalidSpecError(`spec.service.name ${JSON.stringify(serviceName)} is the name of another Service of this cluster; choose another`);
  }
  const podLabels = spec.podLabels ?? {};
  for (const label of Object.keys(podLabels)) {
    if (reservedLabelPrefixes.some((prefix) => label.startsWith(prefix))) {
      throw new InvalidSpecError(`spec.podLabels: ${JSON.stringify(label)} is set by the operator; use a label outside ${reservedLabelPrefixes.join(' and ')}`);
    }
  }
  const replication = spec.replication;
  return {
    readers,
    instances: readers + 1,
    storageSize: String(size),
    ...(storageClassName === undefined ? {} : { storageClassName }),
    accessModes: spec.persistence?.accessModes ?? ['ReadWriteOnce'],
    image: spec.image ?? defaultMariadbImage,
    ...(spec.imagePullPolicy === undefined ? {} : { imagePullPolicy: spec.imagePullPolicy }),
    ...(spec.resources === undefined ? {} : { resources: spec.resources }),
    scheduling: {
      ...(spec.nodeSelector === undefined ? {} : { nodeSelector: spec.nodeSelector }),
      tolerations: spec.tolerations ?? [],
      ...(spec.affinity === undefined ? {} : { affinity: spec.affinity }),
      ...(spec.priorityClassName === undefined ? {} : { priorityClassName: spec.priorityClassName }),
    },
    podAnnotations: spec.podAnnotations ?? {},
    podLabels,
    myCnf: spec.myCnf ?? '',
    replication: {
      mode: replication?.mode ?? 'SemiSync',
      allowAsyncFallback: replication?.allowAsyncFallback ?? false,
      semiSyncTimeoutSeconds: replication?.semiSyncTimeoutSeconds ?? 10,
      autoFailover: replication?.autoFailover ?? true,
      failoverAfterSeconds: replication?.failoverAfterSeconds ?? 3,
      maxReaderLagSeconds: replication?.maxReaderLagSeconds ?? 10,
    },
    ...(spec.primary === undefined ? {} : { desiredPrimaryIndex: spec.primary }),
    serviceName,
    servicePort: spec.service?.port ?? 3306,
    ...(spec.bootstrapFrom === undefined ? {} : { bootstrapFrom: spec.bootstrapFrom.backup }),
  };
}

// ---------------------------------------------------------------- databases

export interface DatabaseIntent {
  readonly cluster: ClusterKey;
  readonly dbName: string;
  readonly charset: string;
  /** Absent: the server's default collation for the character set. */
  readonly collation?: string;
  readonly deletionPolicy: DeletionPolicy;
}

export function databaseIntent(db: MySQLDatabase): DatabaseIntent {
  const spec = db.spec;
  const dbName = check(databaseName, spec.dbName ?? nameFromMetadata(db.metadata.name), spec.dbName === undefined ? 'metadata.name' : 'spec.dbName');
  if (systemDatabases.includes(dbName)) throw new InvalidSpecError(`database ${dbName} is reserved`);
  const collation = spec.collation === undefined ? undefined : check(collationName, spec.collation, 'spec.collation');
  // A collation alone implies its character set (its name starts with it).
  const charset = check(charsetName, spec.encoding ?? collation?.split('_')[0] ?? defaultCharset, 'spec.encoding');
  const effectiveCollation = collation ?? (charset === defaultCharset ? defaultCollation : undefined);
  return {
    cluster: clusterKeyOf(db),
    dbName,
    charset,
    ...(effectiveCollation === undefined ? {} : { collation: effectiveCollation }),
    deletionPolicy: spec.deletionPolicy ?? 'Retain',
  };
}

// ---------------------------------------------------------------- users

export interface PrivilegeIntent {
  readonly database: string;
  readonly table: string;
  /** Upper-case privilege names; empty means USAGE only. */
  readonly privileges: readonly string[];
  readonly withGrantOption: boolean;
}

export interface UserIntent {
  readonly cluster: ClusterKey;
  readonly username: string;
  readonly host: string;
  readonly state: 'present' | 'absent';
  readonly privileges: readonly PrivilegeIntent[];
  /** Where the password is; generated into it when the Secret does not exist. */
  readonly passwordSecret: { readonly name: string; readonly key: string };
  readonly connectionSecretName: string;
  readonly maxUserConnections: number;
  readonly deletionPolicy: DeletionPolicy;
}

function privilegesOf(user: MySQLUser): PrivilegeIntent[] {
  // Entries for the same database and table are merged, as MariaDB holds them.
  const merged = new Map<string, { database: string; table: string; privileges: Set<string>; withGrantOption: boolean }>();
  for (const [index, p] of (user.spec.privileges ?? []).entries()) {
    const field = `spec.privileges[${index}]`;
    const database = p.database === '*' ? '*' : check(databaseName, p.database, `${field}.database`);
    const table = check(tableName, p.table ?? '*', `${field}.table`);
    if (database === '*' && table !== '*') throw new InvalidSpecError(`${field}: a table needs a database, not "*"`);
    const names = p.grants ?? (p.grant === undefined ? [] : [p.grant]);
    const key = `${database}\u0000${table}`;
    const entry = merged.get(key) ?? { database, table, privileges: new Set<string>(), withGrantOption: false };
    for (const name of names) {
      if (!isKnownPrivilege(name)) throw new InvalidSpecError(`${field}: unknown privilege ${JSON.stringify(name)}`);
      const normalized = normalizePrivilege(name);
      entry.privileges.add(normalized === 'ALL' ? 'ALL PRIVILEGES' : normalized);
    }
    entry.privileges.delete('USAGE');
    entry.withGrantOption ||= p.withGrantOption ?? false;
    merged.set(key, entry);
  }
  return [...merged.values()].map((e) => ({ ...e, privileges: [...e.privileges].sort() }));
}

/**
 * The Secrets a MySQLUser reads and writes. Cheap (no validation): the
 * operator asks it for every user of a namespace whenever a Secret there
 * changes.
 */
export function userSecrets(user: MySQLUser): { passwordSecret: { name: string; key: string }; connectionSecretName: string } {
  const spec = user.spec;
  const name = user.metadata.name;
  const passwordSecret =
    spec.passwordSecretRef !== undefined
      ? { name: spec.passwordSecretRef.name, key: spec.passwordSecretRef.key ?? 'password' }
      : spec.passwordSecret !== undefined
        ? { name: spec.passwordSecret, key: legacyPasswordKey }
        : { name: `${name}-password`, key: 'password' };
  return { passwordSecret, connectionSecretName: spec.connectionSecret?.name ?? `${name}-connection` };
}

export function userIntent(user: MySQLUser): UserIntent {
  const spec = user.spec;
  const name = user.metadata.name;
  const username = check(userName, spec.username ?? nameFromMetadata(name), spec.username === undefined ? 'metadata.name' : 'spec.username');
  // The operator's own accounts on managed clusters: whoever set their password would own the cluster.
  if (reservedUserNames.includes(username)) throw new InvalidSpecError(`user ${username} is reserved for the operator; choose another username`);
  // The accounts of backup and restore Jobs: a tenant who set their password would read or write other sites' databases.
  if (username.startsWith(jobAccountPrefix)) throw new InvalidSpecError(`user names starting with ${jobAccountPrefix} are reserved for backup and restore Jobs; choose another username`);
  const host = check(hostName, spec.host ?? '%', 'spec.host');
  return {
    cluster: clusterKeyOf(user),
    username,
    host,
    state: spec.state ?? 'present',
    privileges: privilegesOf(user),
    ...userSecrets(user),
    maxUserConnections: spec.maxUserConnections ?? 0,
    deletionPolicy: spec.deletionPolicy ?? 'Delete',
  };
}
