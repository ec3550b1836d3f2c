// SQL clients to the instances of managed clusters, one small pool per pod,
// as the operator's own account. A pod that moved (new IP) or a password that
// changed gets a new pool; a pool whose statement hung is discarded, so a
// server cut off from the network never holds up the next attempt.
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { MySQLClient, type StatementObserver } from '../../../mysql/client.ts';

interface Entry {
  readonly fingerprint: string;
  readonly client: MySQLClient;
}

/** Connecting to a live pod on the cluster network takes milliseconds; one that takes longer is treated as unreachable. */
const connectTimeoutMs = 1500;

export class InstanceClients {
  readonly #entries = new Map<string, Entry>();
  readonly #observer: StatementObserver;
  readonly #logger: Logger;

  constructor(options: { observer: StatementObserver; logger: Logger }) {
    this.#observer = options.observer;
    this.#logger = options.logger;
  }

  /** The client for one instance (`key`: namespace/pod) at `host`, as `user`. */
  client(key: string, host: string, port: number, user: string, password: string): MySQLClient {
    const fingerprint = createHash('sha256').update(JSON.stringify([host, port, user, password])).digest('hex');
    const existing = this.#entries.get(key);
    if (existing?.fingerprint === fingerprint) return existing.client;
    if (existing !== undefined) this.discard(key);
    const client = MySQLClient.create({ host, port, user, password, connectTimeoutMs, poolSize: 2 }, this.#observer);
    this.#entries.set(key, { fingerprint, client });
    return client;
  }

  /** Drops the instance's pool without waiting for it: its connections may never answer. */
  discard(key: string): void {
    const entry = this.#entries.get(key);
    if (entry === undefined) return;
    this.#entries.delete(key);
    entry.client.close().catch((error: unknown) => {
      this.#logger.debug({ instance: key, error: error instanceof Error ? error.message : String(error) }, 'closing an instance pool failed');
    });
  }

  /** Drops the pools of every instance whose key starts with `prefix` (a deleted cluster's pods). */
  discardAll(prefix = ''): void {
    for (const key of [...this.#entries.keys()]) if (key.startsWith(prefix)) this.discard(key);
  }
}
