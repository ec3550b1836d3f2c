// One pooled SQL client per MySQLCluster, rebuilt when the cluster's address
// or admin credentials change. Every controller that needs the server asks
// here, so the pool is shared and no controller depends on another having run.
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { MySQLCluster } from '../api/mysqlcluster.ts';
import { clusterIntent } from '../api/normalize.ts';
import { MySQLClient, type ConnectionOptions, type StatementObserver } from '../mysql/client.ts';
import { keyOf, secretValue, type Caches } from './context.ts';

/** Why the operator cannot talk to a cluster's server; shown as the Ready condition's reason and message. */
export interface ConnectionProblem {
  readonly reason: string;
  readonly message: string;
}

export type ConnectionResult = { readonly client: MySQLClient; readonly endpoint: { host: string; port: number } } | { readonly problem: ConnectionProblem };

interface Entry {
  readonly fingerprint: string;
  readonly client: MySQLClient;
}

export class ClusterConnections {
  readonly #entries = new Map<string, Entry>();
  readonly #observer: StatementObserver;
  readonly #logger: Logger;
  readonly #poolSize: number;

  constructor(options: { observer: StatementObserver; logger: Logger; poolSize?: number }) {
    this.#observer = options.observer;
    this.#logger = options.logger;
    // Reconciles mostly wait on round trips; 16 connections keep 3 × 32 workers busy without crowding a shared server.
    this.#poolSize = options.poolSize ?? 16;
  }

  /**
   * The client for `cluster`, from its spec and its admin Secret in `caches`.
   * Returns a problem instead when the cluster cannot be connected to as
   * declared (no admin Secret, a managed cluster); reachability is found out by
   * the first statement.
   */
  connect(cluster: MySQLCluster, caches: Caches): ConnectionResult {
    const intent = clusterIntent(cluster);
    const external = intent.external;
    if (external === undefined) {
      return {
        problem: {
          reason: 'ManagedClustersNotSupported',
          message: 'this version of the operator manages databases and users on external servers only; set spec.external',
        },
      };
    }
    const namespace = intent.key.namespace;
    const secret = caches.secrets.get(namespace, external.adminSecretName);
    if (secret === undefined) {
      return { problem: { reason: 'AdminSecretMissing', message: `Secret ${namespace}/${external.adminSecretName} does not exist` } };
    }
    const user = secretValue(secret, 'username');
    const password = secretValue(secret, 'password');
    if (user === undefined || password === undefined) {
      return {
        problem: {
          reason: 'AdminSecretInvalid',
          message: `Secret ${namespace}/${external.adminSecretName} must have the keys "username" and "password"`,
        },
      };
    }
    let tls: ConnectionOptions['tls'];
    if (external.tls.enabled) {
      const caRef = external.tls.caSecret;
      const ca = caRef === undefined ? undefined : secretValue(caches.secrets.get(namespace, caRef.name), caRef.key);
      if (caRef !== undefined && ca === undefined) {
        return { problem: { reason: 'CASecretMissing', message: `Secret ${namespace}/${caRef.name} has no key "${caRef.key}"` } };
      }
      tls = ca === undefined ? {} : { ca };
    }
    const options: ConnectionOptions = { host: external.host, port: external.port, user, password, poolSize: this.#poolSize, ...(tls === undefined ? {} : { tls }) };
    return { client: this.#clientFor(keyOf(cluster), options), endpoint: { host: external.host, port: external.port } };
  }

  #clientFor(key: string, options: ConnectionOptions): MySQLClient {
    // A hash, so the password is not kept in a second place in memory.
    const fingerprint = createHash('sha256').update(JSON.stringify(options)).digest('hex');
    const existing = this.#entries.get(key);
    if (existing?.fingerprint === fingerprint) return existing.client;
    if (existing !== undefined) this.#closeEntry(key, existing);
    const client = MySQLClient.create(options, this.#observer);
    this.#entries.set(key, { fingerprint, client });
    return client;
  }

  /** Closes the pool of a cluster that was deleted. */
  forget(clusterKey: string): void {
    const entry = this.#entries.get(clusterKey);
    if (entry !== undefined) this.#closeEntry(clusterKey, entry);
  }

  async closeAll(): Promise<void> {
    const entries = [...this.#entries.values()];
    this.#entries.clear();
    await Promise.allSettled(entries.map((e) => e.client.close()));
  }

  #closeEntry(key: string, entry: Entry): void {
    this.#entries.delete(key);
    entry.client.close().catch((error: unknown) => {
      this.#logger.warn({ cluster: key, error: error instanceof Error ? error.message : String(error) }, 'closing an old connection pool failed');
    });
  }
}
