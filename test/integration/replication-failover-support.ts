// Fixtures for the failover tests: a process cluster (test/env/process-cluster.ts)
// with a TCP proxy as its writer endpoint, the application's connection
// settings through it or straight to one member, and polling of a member's
// replication state as a user would look at it.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { MySQLClient } from '../../src/mysql/client.ts';
import type { ReplicationState } from '../../src/mysql/replication.ts';
import type { IsolatedNetwork } from '../env/isolated-network.ts';
import { ProcessCluster, type ProcessClusterOptions } from '../env/process-cluster.ts';
import { startMembers, stopMembers, type ClusterDescription, type ClusterSpec, type MemberDescription } from '../env/process-cluster-members.ts';
import { startTcpProxy, type TcpProxy } from '../env/tcp-proxy.ts';
import type { WriteLoadOptions } from '../env/write-load.ts';

export interface ClusterFixture {
  readonly description: ClusterDescription;
  readonly cluster: ProcessCluster;
  /** The writer endpoint: follows moveWriter. */
  readonly proxy: TcpProxy;
  member(index: number): MemberDescription;
  /** The operator's view of one member, for assertions (a client of its own, closed by stop). */
  state(index: number): Promise<ReplicationState>;
  /** Polls member `index` until `done` holds; on timeout, throws with `what` and the last state. */
  stateWhen(index: number, what: string, done: (state: ReplicationState) => boolean, timeoutMs?: number): Promise<ReplicationState>;
  stop(): Promise<void>;
}

export const defaultSpec: ClusterSpec = { autoFailover: true, failoverAfterMs: 1000 };

export async function startClusterFixture(options: {
  root: string;
  name: string;
  spec?: Partial<ClusterSpec>;
  isolated?: { network: IsolatedNetwork; index: number };
  clusterOptions?: ProcessClusterOptions;
}): Promise<ClusterFixture> {
  const dir = join(options.root, options.name);
  mkdirSync(dir, { recursive: true });
  const description = await startMembers({
    dir,
    name: options.name,
    count: 3,
    spec: { ...defaultSpec, ...options.spec },
    ...(options.isolated === undefined ? {} : { isolated: options.isolated }),
  });
  const proxy = await startTcpProxy(undefined);
  const cluster = new ProcessCluster(description, {
    ...options.clusterOptions,
    onWriterMoved: (member) => {
      proxy.setTarget({ host: member.host, port: member.port });
      options.clusterOptions?.onWriterMoved?.(member);
    },
  });
  const observers = new Map<number, MySQLClient>();
  const member = (index: number): MemberDescription => {
    const found = description.members[index];
    if (found === undefined) throw new Error(`${options.name} has no member ${index}`);
    return found;
  };
  const state = async (index: number): Promise<ReplicationState> => {
    let client = observers.get(index);
    if (client === undefined) {
      const m = member(index);
      client = MySQLClient.create({ host: m.host, port: m.port, user: description.operator.user, password: description.operator.password, connectTimeoutMs: 2000 });
      observers.set(index, client);
    }
    return client.replication.replicationState();
  };
  return {
    description,
    cluster,
    proxy,
    member,
    state,
    async stateWhen(index, what, done, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      let last: ReplicationState | string;
      for (;;) {
        try {
          const seen = await state(index);
          if (done(seen)) return seen;
          last = seen;
        } catch (error) {
          last = error instanceof Error ? error.message : String(error);
        }
        if (Date.now() > deadline) throw new Error(`${member(index).name}: ${what} not seen within ${timeoutMs} ms; last: ${JSON.stringify(last)}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    async stop() {
      await Promise.all([...observers.values()].map((c) => c.close()));
      await cluster.close();
      await proxy.close();
      await stopMembers(description.members);
    },
  };
}

/** The application's settings through the writer endpoint. */
export function throughProxy(fixture: ClusterFixture): WriteLoadOptions {
  const { user, password, database } = fixture.description.app;
  return { host: '127.0.0.1', port: fixture.proxy.port, user, password, database };
}

/** The application's settings straight to one member. */
export function straightTo(fixture: ClusterFixture, index: number): WriteLoadOptions {
  const { user, password, database } = fixture.description.app;
  const m = fixture.member(index);
  return { host: m.host, port: m.port, user, password, database };
}
