// Fixtures for tests that drive replication through the SQL client: a replica
// set of real mariadbd processes wired by the code under test (one primary,
// the others replicating from it with GTID, read-only), a client per member,
// and polling that reports the last observation when it gives up.
import * as mariadb from 'mariadb';
import { MySQLClient } from '../../src/mysql/client.ts';
import type { ReplicationState, SemiSyncSettings } from '../../src/mysql/replication.ts';
import type { MariaDBInstance } from '../env/mariadb.ts';
import { startReplicaSet, stopReplicaSet } from '../env/replica-set.ts';
import { adminOptions } from './mysql-support.ts';

export const replicationUser = 'replication';
export const replicationPassword = 'Repl-Pw-never-in-logs-7f3a';

export interface ReplicaSetMember {
  readonly server: MariaDBInstance;
  /** The SQL client as the server's admin. */
  readonly client: MySQLClient;
}

export interface WiredReplicaSet {
  readonly members: readonly ReplicaSetMember[];
  stop(): Promise<void>;
}

/** The source settings configureReplica needs to follow `primary`. */
export function sourceOf(primary: MariaDBInstance, password = replicationPassword): { host: string; port: number; user: string; password: string } {
  return { host: primary.host, port: primary.port, user: replicationUser, password };
}

/**
 * `count` fresh servers under `dir`; member 0 is primary (with the
 * replication account), the others replicate from it, read-only, each
 * connected before this resolves. With `semiSync`, every member gets those
 * settings afterwards (master only on member 0, slave on the others).
 */
export async function startWiredReplicaSet(options: { dir: string; name: string; count: number; semiSync?: Omit<SemiSyncSettings, 'master' | 'slave'> }): Promise<WiredReplicaSet> {
  const servers = await startReplicaSet({ dir: options.dir, name: options.name, count: options.count });
  const members = servers.map((server) => ({ server, client: MySQLClient.create(adminOptions(server)) }));
  const stop = async (): Promise<void> => {
    await Promise.all(members.map((m) => m.client.close()));
    await stopReplicaSet(servers);
  };
  try {
    const [primary, ...replicas] = members;
    if (primary === undefined) throw new Error('a replica set needs at least one member');
    await primary.client.replication.ensureReplicationUser(replicationUser, '%', replicationPassword);
    for (const replica of replicas) {
      await replica.client.replication.setReadOnly(true);
      await replica.client.replication.configureReplica(sourceOf(primary.server), { waitConnectedMs: 20_000 });
    }
    // Replicas first: a primary waiting for acknowledgements before any replica gives them would block its next write.
    if (options.semiSync !== undefined) {
      for (const [i, m] of [...members.entries()].reverse()) await m.client.replication.setSemiSync({ ...options.semiSync, master: i === 0, slave: i !== 0 });
    }
    return { members, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * Polls `member`'s replication state until `done` holds, and returns that
 * state; on timeout, throws with `what` and the last state seen.
 */
export async function stateWhen(member: ReplicaSetMember, what: string, done: (state: ReplicationState) => boolean, timeoutMs = 20_000): Promise<ReplicationState> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await member.client.replication.replicationState();
    if (done(state)) return state;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${member.server.name}: ${what}; last state: ${JSON.stringify(state)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * A direct connection as `user` to `server`, bypassing the client. The
 * server closes it when a test kills it or when the test's servers stop
 * before the connection is ended; the connector then emits 'error', which
 * without a listener would crash the test process. Tests see the closed
 * connection where it matters: its queries reject and isValid() is false.
 */
export async function connect(server: MariaDBInstance, user: string, password: string): Promise<mariadb.Connection> {
  const connection = await mariadb.createConnection({ host: server.host, port: server.port, user, password, connectTimeout: 5000 });
  connection.on('error', () => {
    // Observed through the connection itself, as said above.
  });
  return connection;
}

/** Runs `sql` once as the server's admin, on a connection of its own. */
export async function adminQuery<T>(server: MariaDBInstance, sql: string, values: unknown[] = []): Promise<T> {
  const conn = await connect(server, server.adminUser, server.adminPassword);
  try {
    return await conn.query<T>(sql, values);
  } finally {
    await conn.end();
  }
}

/** What `pending` did within `ms`: resolved, rejected, or still pending — measured with a timer, not a sleep-and-hope. */
export async function outcomeWithin(pending: Promise<unknown>, ms: number): Promise<'resolved' | 'rejected' | 'pending'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'pending'>((resolve) => {
    timer = setTimeout(() => {
      resolve('pending');
    }, ms);
  });
  try {
    return await Promise.race([
      pending.then(
        () => 'resolved' as const,
        () => 'rejected' as const,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
