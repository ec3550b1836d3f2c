// One pooled SQL client per MySQLCluster, rebuilt when the cluster's address
// or admin credentials change. Every controller that needs the server asks
// here, so the pool is shared and no controller depends on another having run.
//
// On a managed cluster the client reaches the writer through its Service as
// flightdeck_manager, the account without READ_ONLY ADMIN or SUPER: a pooled
// connection that still points at a demoted writer (or one opened while the
// Service moves) is refused by read_only (error 1290) instead of writing an
// errant transaction there, and the demotion closes its sessions.
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { MySQLCluster } from '../api/mysqlcluster.ts';
import { clusterIntent } from '../api/normalize.ts';
import { MySQLClient, type ConnectionOptions, type StatementObserver } from '../mysql/client.ts';
import type { Informer } from '../runtime/informer.ts';
import { clusterNames, credentialKeys, serviceDnsName, systemAccounts } from './cluster/managed/builders/names.ts';
import { writesCannotCompleteReasons } from './cluster/managed/status.ts';
import { keyOf, secretValue, type SecretObject } from './context.ts';

/** Why the operator cannot talk to a cluster's server; shown as the Ready condition's reason and message. */
export interface ConnectionProblem {
  readonly reason: string;
  readonly message: string;
}

export type ConnectionResult = { readonly client: MySQLClient; readonly endpoint: { host: string; port: number } } | { readonly problem: ConnectionProblem };

/** What connect() reads of the caches: Secrets (Caches has it). */
export interface SecretsCache {
  readonly secrets: Pick<Informer<SecretObject>, 'get'>;
}

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
   * The client for `cluster`: for an external cluster, its address and the
   * admin Secret it names; for a managed one, its writer Service and the
   * manager account's password from the credentials Secret the cluster
   * reconciler generates. Returns a problem instead when the cluster cannot
   * be connected to as declared (a Secret or key missing); reachability is
   * found out by the first statement.
   */
  connect(cluster: MySQLCluster, caches: SecretsCache): ConnectionResult {
    const intent = clusterIntent(cluster);
    const namespace = intent.key.namespace;
    if (intent.managed !== undefined) {
      const names = clusterNames(intent.key.name, intent.managed);
      const secretName = `${namespace}/${names.credentialsSecret}`;
      const secret = caches.secrets.get(namespace, names.credentialsSecret);
      if (secret === undefined) {
        return { problem: { reason: 'CredentialsNotReady', message: `the cluster has not created its credentials yet (Secret ${secretName})` } };
      }
      const password = secretValue(secret, credentialKeys.managerPassword);
      if (password === undefined || password === '') {
        return {
          problem: {
            reason: 'CredentialsInvalid',
            message: `Secret ${secretName} has no key "${credentialKeys.managerPassword}"; the instances keep the accounts they were created with, so restore the Secret rather than delete it`,
          },
        };
      }
      const notWritable = writesCannotComplete(cluster);
      if (notWritable !== undefined) return { problem: notWritable };
      const endpoint = { host: serviceDnsName(names.writerService, namespace), port: intent.managed.servicePort };
      const options: ConnectionOptions = { ...endpoint, user: systemAccounts.manager.user, password, poolSize: this.#poolSize };
      return { client: this.#clientFor(keyOf(cluster), options), endpoint };
    }
    const external = intent.external;
    if (external === undefined) throw new Error(`MySQLCluster ${namespace}/${intent.key.name} is neither managed nor external`);
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

/**
 * Why no write to a managed cluster could complete now, as its Ready
 * condition says; undefined when one could (or when only a transient state
 * such as a switchover stands in the way: then the statement finds out).
 * A write sent anyway would hang: on a new cluster whose writer waits for a
 * reader's acknowledgement, it would also hold up the copy the first readers
 * are seeded from, and so wait for ever.
 */
function writesCannotComplete(cluster: MySQLCluster): ConnectionProblem | undefined {
  const ready = cluster.status?.conditions?.find((c) => c.type === 'Ready');
  if (ready === undefined) return { reason: 'Initializing', message: 'the cluster has not reported its state yet' };
  if (ready.status === 'True' || !writesCannotCompleteReasons.has(ready.reason)) return undefined;
  return { reason: ready.reason, message: ready.message };
}
