// Helpers for the SQL client's integration tests: a client on a real test
// server that records every statement, an admin connection for setting up
// what a human would do by hand, and connections as the users the client
// created, to see what they may do.
import * as mariadb from 'mariadb';
import { MySQLClient, type ConnectionOptions, type StatementKind } from '../../src/mysql/client.ts';
import type { MariaDBInstance } from '../env/mariadb.ts';
import { after } from 'node:test';
import { testEnvironment } from '../env/shared.ts';

/**
 * The environment's MariaDB servers. Call it at the top level of a test file,
 * not inside a hook: when the file runs on its own, testEnvironment()
 * registers the `after` hook that stops its environment, and node:test runs
 * an `after` registered inside a `before` hook right after that hook — before
 * any test.
 */
export function testServers(): Promise<readonly MariaDBInstance[]> {
  return testEnvironment().then((env) => env.mariadb);
}

/** Server `index` of `servers`. */
export async function serverAt(servers: Promise<readonly MariaDBInstance[]>, index = 0): Promise<MariaDBInstance> {
  const server = (await servers)[index];
  if (server === undefined) throw new Error(`the test environment has no MariaDB server #${index}`);
  return server;
}

/**
 * Test server `index` and a client on it as admin that records its
 * statements, closed after the file's tests. Top level only, as testServers.
 */
export async function recordingFixture(index = 0): Promise<{ server: MariaDBInstance; recording: RecordingClient }> {
  const server = await serverAt(testServers(), index);
  const recording = new RecordingClient(adminOptions(server));
  after(() => recording.close());
  return { server, recording };
}

export function adminOptions(server: MariaDBInstance): ConnectionOptions {
  return { host: server.host, port: server.port, user: server.adminUser, password: server.adminPassword };
}

export interface RecordedStatement {
  readonly kind: StatementKind;
  readonly verb: string;
  readonly failed: boolean;
}

/** A client whose statements are recorded in `statements`. */
export class RecordingClient {
  readonly statements: RecordedStatement[] = [];
  readonly client: MySQLClient;

  constructor(options: ConnectionOptions) {
    this.client = MySQLClient.create(options, (kind, verb, _durationMs, failed) => {
      this.statements.push({ kind, verb, failed });
    });
  }

  /** The verbs of the write statements recorded since `from` (an index into `statements`). */
  writesSince(from: number): string[] {
    return this.statements.slice(from).filter((s) => s.kind === 'write').map((s) => s.verb);
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

/** A direct connection as the server's admin, bypassing the client. */
export function adminConnection(server: MariaDBInstance): Promise<mariadb.Connection> {
  return mariadb.createConnection({ host: server.host, port: server.port, user: server.adminUser, password: server.adminPassword });
}

/** A direct connection as `user`; rejects when the server refuses it. */
export function connectAs(server: MariaDBInstance, user: string, password: string, database?: string): Promise<mariadb.Connection> {
  return mariadb.createConnection({ host: server.host, port: server.port, user, password, connectTimeout: 5000, ...(database !== undefined && { database }) });
}

/** Runs `work` on a connection as `user` and closes it. */
export async function asUser<T>(server: MariaDBInstance, user: string, password: string, work: (c: mariadb.Connection) => Promise<T>): Promise<T> {
  const conn = await connectAs(server, user, password);
  try {
    return await work(conn);
  } finally {
    await conn.end();
  }
}

let counter = 0;

/** A name no other test, file or parallel run uses: `${base}_${pid}_${n}`. */
export function uniqueName(base: string): string {
  return `${base}_${process.pid}_${++counter}`;
}
