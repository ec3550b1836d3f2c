// The servers of a process cluster (process-cluster.ts): N mariadbd ready to
// replicate (replica-set.ts's options), each with the accounts a managed
// cluster's initdb would create — the operator's and an application's — made
// outside the binary log so all members start with the same data and no
// GTIDs. One member may run in its own network namespace (isolated-network.ts)
// so that a test can cut it off. The description is plain JSON in a file, so
// that an operator in another process drives the same servers.
import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as mariadb from 'mariadb';
import { bootstrapAccountsSql, systemAccounts } from '../../src/mysql/bootstrap-accounts.ts';
import { nativePasswordHash } from '../../src/mysql/password.ts';
import type { IsolatedNetwork } from './isolated-network.ts';
import { startMariaDB } from './mariadb.ts';
import { isAlive, stopProcess } from './processes.ts';
import { replicationArgs } from './replica-set.ts';

export interface MemberDescription {
  /** Instance name, `<cluster>-<index>`, as a pod name would be. */
  readonly name: string;
  readonly index: number;
  /** The address everyone uses for it: operator, replicas, the writer proxy. */
  readonly host: string;
  readonly port: number;
  readonly socket: string;
  /** The admin (root) password; root logs in over the socket only. */
  readonly adminPassword: string;
  /** The running mariadbd; replaced when the member is started again. */
  pid: number;
  /** The network namespace it runs in, if not the host's. */
  readonly netns?: string | undefined;
  /** mariadbd options for a restart with the same identity. */
  readonly args: readonly string[];
}

export interface Account {
  readonly user: string;
  readonly password: string;
}

/** What the decision reads from the MySQLCluster's spec, editable while the operator runs. */
export interface ClusterSpec {
  desiredPrimaryIndex?: number | undefined;
  autoFailover: boolean;
  failoverAfterMs: number;
}

export interface ClusterDescription {
  readonly name: string;
  readonly dir: string;
  readonly members: MemberDescription[];
  /** The operator's account, '%' on every member. */
  readonly operator: Account;
  readonly replication: Account;
  /** An application account with every privilege on `database` only: read_only stops it. */
  readonly app: Account & { readonly database: string };
  spec: ClusterSpec;
  /** Where the cluster's status lives (process-cluster-status.ts). */
  readonly statusFile: string;
  /** Where the writer endpoint is recorded for a proxy in another process to follow. */
  readonly writerFile: string;
}

export const descriptionFileName = 'cluster.json';

function password(): string {
  return randomBytes(15).toString('base64url');
}

/**
 * Starts `count` members under `dir`. With `isolated`, member `isolatedIndex`
 * runs in that namespace on its inner address, and the others listen on the
 * host's end of the pair as well, so that it can replicate from them.
 */
export async function startMembers(options: {
  dir: string;
  name: string;
  count: number;
  spec: ClusterSpec;
  isolated?: { network: IsolatedNetwork; index: number };
}): Promise<ClusterDescription> {
  const { dir, name, count, isolated } = options;
  const operator = { user: systemAccounts.operator.user, password: password() };
  const replication = { user: systemAccounts.replication.user, password: password() };
  const app = { user: 'app', password: password(), database: 'app' };
  const starts = Array.from({ length: count }, async (_, index): Promise<MemberDescription> => {
    const inside = isolated !== undefined && isolated.index === index;
    const bind = isolated === undefined ? '127.0.0.1' : inside ? isolated.network.innerAddress : `127.0.0.1,${isolated.network.hostAddress}`;
    const args = [...replicationArgs(index + 1), `--bind-address=${bind}`];
    const netns = inside ? isolated.network.netns : undefined;
    const server = await startMariaDB({ dir, name: `${name}-${index}`, extraArgs: args, netns });
    const host = isolated === undefined ? '127.0.0.1' : inside ? isolated.network.innerAddress : isolated.network.hostAddress;
    return { name: `${name}-${index}`, index, host, port: server.port, socket: server.socket, adminPassword: server.adminPassword, pid: server.process.pid, netns, args };
  });
  const settled = await Promise.allSettled(starts);
  const members = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  try {
    const failure = settled.find((s) => s.status === 'rejected');
    if (failure !== undefined) throw new Error(`a member of ${name} did not start`, { cause: failure.reason });
    for (const member of members) await prepareMember(member, { operator, replication, app });
  } catch (error) {
    await stopMembers(members);
    throw error;
  }
  const description: ClusterDescription = {
    name,
    dir,
    members,
    operator,
    replication,
    app,
    spec: options.spec,
    statusFile: join(dir, 'status.json'),
    writerFile: join(dir, 'writer.json'),
  };
  saveDescription(description);
  return description;
}

/** Root over the member's socket: works whatever happens to its network. */
export async function adminConnection(member: MemberDescription): Promise<mariadb.Connection> {
  const connection = await mariadb.createConnection({ socketPath: member.socket, user: 'root', password: member.adminPassword, connectTimeout: 5000 });
  connection.on('error', () => {
    // A member killed under the test closes it; its queries reject, which the test sees.
  });
  return connection;
}

/**
 * Forgets the binary log each copy of the template wrote under its own server
 * id (replica-set.ts explains why), runs the managed cluster's initdb script
 * (the operator's and the replication account, outside the binary log), and
 * adds the application's database and account the same way: every member the
 * same, no GTID.
 */
async function prepareMember(member: MemberDescription, accounts: { operator: Account; replication: Account; app: Account & { database: string } }): Promise<void> {
  const { operator, replication, app } = accounts;
  const connection = await mariadb.createConnection({ socketPath: member.socket, user: 'root', password: member.adminPassword, multipleStatements: true });
  try {
    await connection.query('RESET MASTER');
    await connection.query(
      bootstrapAccountsSql({
        operator: { user: operator.user, host: '%', passwordHash: nativePasswordHash(operator.password) },
        replication: { user: replication.user, host: '%', passwordHash: nativePasswordHash(replication.password) },
        // Makes databases and users in a managed cluster; not used here, created as initdb does.
        manager: { user: systemAccounts.manager.user, host: '%', passwordHash: nativePasswordHash(password()) },
      }),
    );
    await connection.query('SET SESSION sql_log_bin = 0');
    await connection.query(`CREATE DATABASE \`${app.database}\``);
    await connection.query('CREATE USER ?@? IDENTIFIED BY ?', [app.user, '%', app.password]);
    await connection.query(`GRANT ALL PRIVILEGES ON \`${app.database}\`.* TO ?@?`, [app.user, '%']);
  } finally {
    await connection.end();
  }
}

export function saveDescription(description: ClusterDescription): void {
  const file = join(description.dir, descriptionFileName);
  writeFileSync(`${file}.tmp`, JSON.stringify(description, null, 2));
  renameSync(`${file}.tmp`, file);
}

export function loadDescription(dir: string): ClusterDescription {
  return JSON.parse(readFileSync(join(dir, descriptionFileName), 'utf8')) as ClusterDescription;
}

/** SIGKILL: no shutdown, no flush beyond what the server already did — a node that died. */
export async function killMember(member: MemberDescription): Promise<void> {
  process.kill(member.pid, 'SIGKILL');
  while (isAlive(member.pid)) await new Promise((resolve) => setTimeout(resolve, 10));
}

/**
 * Starts a stopped member again with its data and options (its replication
 * settings are in its data directory). `extraArgs` are added for this run,
 * e.g. --skip-slave-start for a server restarted alone.
 */
export async function restartMember(description: ClusterDescription, member: MemberDescription, extraArgs: readonly string[] = []): Promise<void> {
  if (isAlive(member.pid)) throw new Error(`${member.name} still runs (pid ${member.pid})`);
  const server = await startMariaDB({ dir: description.dir, name: member.name, port: member.port, extraArgs: [...member.args, ...extraArgs], netns: member.netns });
  member.pid = server.process.pid;
  saveDescription(description);
}

export async function stopMembers(members: readonly Pick<MemberDescription, 'pid'>[]): Promise<void> {
  await Promise.all(members.filter((m) => isAlive(m.pid)).map((m) => stopProcess(m.pid, 30_000)));
}
