// The one place where the three kinds' specs — canonical fields and the
// original Flight Deck Operator's forms alike — become what the controllers
// act on. Defaults that depend on other fields or on metadata.name live here
// rather than in the CRD, so that both forms mean the same thing.
import type { MySQLCluster } from './mysqlcluster.ts';
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

export interface ManagedServers {
  readonly readers: number;
  readonly storageSize: string;
  readonly storageClassName?: string;
  readonly accessModes: readonly string[];
  readonly serviceName: string;
  readonly servicePort: number;
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
  // replicas counted the writer too; readerCount does not.
  const readers = spec.readerCount ?? (spec.replicas === undefined ? 1 : spec.replicas - 1);
  const size = spec.size ?? spec.persistence?.size ?? '10Gi';
  const storageClassName = spec.storageClassName ?? spec.persistence?.storageClass;
  return {
    key,
    tenancy,
    managed: {
      readers,
      storageSize: String(size),
      ...(storageClassName === undefined ? {} : { storageClassName }),
      accessModes: spec.persistence?.accessModes ?? ['ReadWriteOnce'],
      serviceName: spec.service?.name ?? cluster.metadata.name,
      servicePort: spec.service?.port ?? 3306,
    },
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
