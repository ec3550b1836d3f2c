// MariaDB servers ready to replicate from one another, for the replication,
// failover and switchover tests: the options a managed cluster runs with
// (binary log, GTID strict mode, semi-sync with the AFTER_SYNC wait point)
// and identical data, so that any of them can be made primary. Replication
// itself is not set up here: that is what the code under test does.
import * as mariadb from 'mariadb';
import { startMariaDB, stopMariaDB, type MariaDBInstance, type StartMariaDBOptions } from './mariadb.ts';

/**
 * mariadbd options for member `serverId` (unique, ≥ 1) of a replica set.
 * log_slave_updates: a replica's binary log holds everything it applied, so
 * it can serve as primary after a failover and its gtid_binlog_pos says all
 * it has. Start a stopped member again with startMariaDB and the same
 * options: its data directory keeps its replication settings.
 */
export function replicationArgs(serverId: number): string[] {
  if (!Number.isInteger(serverId) || serverId < 1) throw new Error(`server id must be a positive integer, got ${serverId}`);
  return [
    `--server-id=${serverId}`,
    '--log-bin=mariadb-bin',
    '--log-slave-updates',
    '--gtid-strict-mode=ON',
    '--binlog-format=ROW',
    '--relay-log=relay-bin',
    '--rpl-semi-sync-master-wait-point=AFTER_SYNC',
  ];
}

/**
 * Starts `count` fresh servers `${name}-0` … (server ids 1 … count) under
 * `dir` and empties their binary logs. Each copy of the template data
 * directory wrote its own admin account into its binary log under its own
 * server id; left there, every replica would hold transactions its primary
 * lacks (errant ones) and strict mode would stop replication at once. After
 * RESET MASTER all members have the same data and no GTIDs, as replicas
 * seeded from a backup of the primary would. Each keeps its own admin
 * password. Call only for new directories: RESET MASTER discards history.
 */
export async function startReplicaSet(options: { dir: string; name: string; count: number; extraArgs?: readonly string[] }): Promise<MariaDBInstance[]> {
  const starts = Array.from({ length: options.count }, (_, i): StartMariaDBOptions => ({
    dir: options.dir,
    name: `${options.name}-${i}`,
    extraArgs: [...replicationArgs(i + 1), ...(options.extraArgs ?? [])],
  }));
  const settled = await Promise.allSettled(starts.map((start) => startMariaDB(start)));
  const members = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failure = settled.find((s) => s.status === 'rejected');
  try {
    if (failure !== undefined) throw new Error(`a member of replica set ${options.name} did not start`, { cause: failure.reason });
    for (const member of members) await resetBinaryLog(member);
  } catch (error) {
    await stopReplicaSet(members);
    throw error;
  }
  return members;
}

export async function stopReplicaSet(members: readonly MariaDBInstance[]): Promise<void> {
  await Promise.all(members.map((m) => stopMariaDB(m)));
}

async function resetBinaryLog(member: MariaDBInstance): Promise<void> {
  const conn = await mariadb.createConnection({ host: member.host, port: member.port, user: member.adminUser, password: member.adminPassword });
  try {
    await conn.query('RESET MASTER');
  } finally {
    await conn.end();
  }
}
