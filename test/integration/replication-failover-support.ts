// Fixtures for the failover tests: a process cluster (test/env/process-cluster.ts)
// with a TCP proxy as its writer endpoint, the application's connection
// settings through it or straight to one member, and polling of a member's
// replication state as a user would look at it.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync } from 'node:fs';
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

/**
 * Points the proxy wherever the writer file says, polled every 50 ms: the
 * writer endpoint of an operator running in another process.
 */
export function followWriterFile(fixture: ClusterFixture): { stop(): void } {
  const file = fixture.description.writerFile;
  const timer = setInterval(() => {
    if (!existsSync(file)) return;
    const { writer } = JSON.parse(readFileSync(file, 'utf8')) as { writer: string };
    const member = fixture.description.members.find((m) => m.name === writer);
    if (member === undefined) throw new Error(`the writer file names ${writer}, no member of ${fixture.description.name}`);
    if (fixture.proxy.target?.host !== member.host || fixture.proxy.target.port !== member.port) fixture.proxy.setTarget({ host: member.host, port: member.port });
  }, 50);
  return {
    stop() {
      clearInterval(timer);
    },
  };
}

export interface OperatorProcess {
  readonly pid: number;
  /** How it ended. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then SIGKILL after 10 s; resolves once it has exited. */
  stop(): Promise<void>;
}

const operatorScript = join(import.meta.dirname, '..', 'env', 'process-cluster-operator.ts');

/** Starts test/env/process-cluster-operator.ts on the fixture's cluster; `crashAt` as FLIGHTDECK_CRASH_AT. Output goes to operator-<n>.log in the cluster's directory. */
export function startOperatorProcess(fixture: ClusterFixture, label: string, crashAt?: string): OperatorProcess {
  const log = openSync(join(fixture.description.dir, `operator-${label}.log`), 'a');
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (crashAt === undefined) delete env.FLIGHTDECK_CRASH_AT;
  else env.FLIGHTDECK_CRASH_AT = crashAt;
  try {
    const child = spawn(process.execPath, [operatorScript, fixture.description.dir], { stdio: ['ignore', log, log], env });
    if (child.pid === undefined) throw new Error('the operator process did not start');
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.once('exit', (code, signal) => {
        resolve({ code, signal });
      });
    });
    return {
      pid: child.pid,
      exited,
      async stop() {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      },
    };
  } finally {
    closeSync(log);
  }
}
