// Which databases a backup or restore in a namespace may touch: the tenancy
// rule of issue 9. A namespace other than the cluster's may name only
// databases that MySQLDatabase objects in that namespace own; a whole-cluster
// backup (no databases named) only from the cluster's own namespace.
import type { MySQLDatabase } from '../../api/mysqldatabase.ts';
import { databaseIntent, type ClusterKey } from '../../api/normalize.ts';
import type { Readiness } from '../status.ts';
import { notOwnedViolation } from '../tenancy.ts';

/** dbName of every MySQLDatabase in `databases` that points at `cluster` and whose spec reads. */
export function databasesOwnedBy(databases: readonly MySQLDatabase[], cluster: ClusterKey): Set<string> {
  const owned = new Set<string>();
  for (const db of databases) {
    try {
      const intent = databaseIntent(db);
      if (intent.cluster.namespace === cluster.namespace && intent.cluster.name === cluster.name) owned.add(intent.dbName);
    } catch {
      // A MySQLDatabase whose spec does not read owns nothing; its own status says why.
      continue;
    }
  }
  return owned;
}

export interface ScopeQuestion {
  readonly what: 'back up' | 'restore into';
  /** The databases named; undefined: all of the cluster's. */
  readonly databases: readonly string[] | undefined;
  readonly namespace: string;
  readonly cluster: ClusterKey;
  /** Databases that MySQLDatabases in `namespace` own on the cluster. */
  readonly owned: ReadonlySet<string>;
}

/** Undefined when allowed; otherwise the refusal as the Ready condition says it. */
export function scopeRefusal(question: ScopeQuestion): Readiness | undefined {
  const { cluster, namespace } = question;
  if (namespace === cluster.namespace) return undefined;
  if (question.databases === undefined) {
    return {
      ready: false,
      reason: 'WholeClusterNotAllowed',
      message: `only objects in namespace ${cluster.namespace}, the namespace of MySQLCluster ${cluster.name}, may ${question.what} every database of it; name the databases in spec.databases`,
    };
  }
  const foreign = question.databases.filter((db) => !question.owned.has(db));
  if (foreign.length === 0) return undefined;
  return {
    ready: false,
    reason: 'DatabaseNotOwned',
    message: `may not ${question.what} ${foreign.map((db) => notOwnedViolation(db, namespace)).join('; ')} (on MySQLCluster ${cluster.namespace}/${cluster.name})`,
  };
}
