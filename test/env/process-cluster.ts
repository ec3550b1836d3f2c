// A replica set of mariadbd processes as a cluster the operator's replication
// code drives without Kubernetes: InstanceAccess and WriterRouting over plain
// processes (a process that is dead is "gone"; the writer endpoint is a TCP
// proxy's target), the status in a file (process-cluster-status.ts), and a
// tick — observe, decide, act — that is what one reconcile of the managed
// controller does. The decide/act code is the controller's own; only the
// world around it is replaced.
import { renameSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SeedControl } from '../../src/controllers/cluster/managed/pod-seeding.ts';
import type { ActOutcome } from '../../src/controllers/cluster/managed/replication/act.ts';
import { act } from '../../src/controllers/cluster/managed/replication/act.ts';
import type { InstanceAccess, ReplicationSettings, WriterRouting } from '../../src/controllers/cluster/managed/replication/instance-access.ts';
import { serverObservation } from '../../src/controllers/cluster/managed/replication/server-observation.ts';
import { onInstance } from '../../src/controllers/cluster/managed/replication/sql-steps.ts';
import { SqlStepExecutor } from '../../src/controllers/cluster/managed/replication/step-executor.ts';
import { MySQLClient } from '../../src/mysql/client.ts';
import { decide, type Decision } from '../../src/replication/decide.ts';
import type { ClusterObservation, InstanceObservation } from '../../src/replication/observations.ts';
import type { Operation } from '../../src/replication/operation.ts';
import { loadDescription, type ClusterDescription, type MemberDescription } from './process-cluster-members.ts';
import { FileRecorder } from './process-cluster-status.ts';
import { isAlive } from './processes.ts';

/**
 * How long observing one member may take, and connecting to it: a member cut
 * off from the network costs this much in every observation (each tick, and
 * the failover steps that look again), so it bounds how fast a failover away
 * from it goes. Local servers answer in milliseconds even on a busy machine.
 */
const observeTimeoutMs = 1000;
const connectTimeoutMs = 700;
/**
 * Processes have no seed init container and no donor endpoint: a decision
 * to seed or discard one is recorded as a failure of the tick (no process
 * test leads there; a new member replays the writer's binary logs instead).
 */
const processSeeding: SeedControl = {
  offerDonor: (instance) => Promise.reject(new Error(`${instance}: processes are not seeded from copies here`)),
  discardAndRestart: (instance) => Promise.reject(new Error(`${instance}: processes are not rebuilt from copies here`)),
};

/** The controller's requeue while a cluster is not steady. */
export const tickIntervalMs = 200;

/** One reconcile: what was decided, and what came of it (or the error it ended with). */
export interface TickRecord {
  readonly atMs: number;
  readonly decision: Decision;
  readonly outcome?: ActOutcome;
  readonly error?: string;
}

export interface ProcessClusterOptions {
  /** Told when the writer endpoint moves (the test points its proxy there). */
  readonly onWriterMoved?: (member: MemberDescription) => void;
  /** Told after each operation record is on disk, before its step runs. */
  readonly afterPersist?: (operation: Operation) => void;
  /** Told of every tick. */
  readonly onTick?: (record: TickRecord) => void;
}

export interface TickLoop {
  /** Aborts the running tick (as a lost lease does) and resolves when it has stopped. */
  stop(): Promise<void>;
}

export class ProcessCluster implements InstanceAccess, WriterRouting {
  readonly settings: ReplicationSettings;
  readonly recorder: FileRecorder;
  /** The last ticks, oldest first. */
  readonly ticks: TickRecord[] = [];
  #description: ClusterDescription;
  readonly #options: ProcessClusterOptions;
  readonly #clients = new Map<string, MySQLClient>();
  readonly #executor: SqlStepExecutor;
  #primaryUnreachableSinceMs: number | undefined;

  constructor(description: ClusterDescription, options: ProcessClusterOptions = {}) {
    this.#description = description;
    this.#options = options;
    this.settings = {
      semiSync: true,
      // An hour: in effect no fallback to asynchronous replication within a test.
      semiSyncTimeoutMs: 3_600_000,
      semiSyncWaitNoReplica: true,
      replicationUser: description.replication.user,
      replicationPassword: description.replication.password,
      sparedUsers: [description.operator.user],
    };
    this.recorder = new FileRecorder(description.statusFile, options.afterPersist);
    this.#executor = new SqlStepExecutor(this, this, this.settings);
  }

  get description(): ClusterDescription {
    return this.#description;
  }

  /** Reads the description file again (spec edits and restarted members' pids), as a controller sees a changed object. */
  reload(): void {
    this.#description = loadDescription(this.#description.dir);
  }

  member(instance: string): MemberDescription {
    const member = this.#description.members.find((m) => m.name === instance);
    if (member === undefined) throw new Error(`${instance} is no member of ${this.#description.name}`);
    return member;
  }

  client(instance: string): MySQLClient | undefined {
    const member = this.member(instance);
    let client = this.#clients.get(instance);
    if (client === undefined) {
      const { user, password } = this.#description.operator;
      client = MySQLClient.create({ host: member.host, port: member.port, user, password, connectTimeoutMs, poolSize: 3 });
      this.#clients.set(instance, client);
    }
    return client;
  }

  discard(instance: string): void {
    const client = this.#clients.get(instance);
    this.#clients.delete(instance);
    // Idle connections end now; one hung on a cut-off server ends when its statement does.
    client?.close().catch((error: unknown) => {
      process.emitWarning(`closing the client of ${instance}: ${error instanceof Error ? error.message : String(error)}`);
    });
  }

  replicationSource(instance: string): { host: string; port: number } {
    const member = this.member(instance);
    return { host: member.host, port: member.port };
  }

  isGone(instance: string): boolean {
    return !isAlive(this.member(instance).pid);
  }

  async moveWriter(instance: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const member = this.member(instance);
    const file = this.#description.writerFile;
    writeFileSync(`${file}.tmp`, JSON.stringify({ writer: instance }));
    renameSync(`${file}.tmp`, file);
    this.#options.onWriterMoved?.(member);
    return Promise.resolve();
  }

  async observe(signal: AbortSignal): Promise<ClusterObservation> {
    const description = this.#description;
    const status = this.recorder.read();
    const instances = await Promise.all(description.members.map((member) => this.#observeMember(member, signal)));
    const nowMs = Date.now();
    const primary = instances.find((i) => i.name === status.currentPrimary);
    if (primary === undefined || primary.server !== undefined) this.#primaryUnreachableSinceMs = undefined;
    else this.#primaryUnreachableSinceMs ??= nowMs;
    return {
      nowMs,
      instanceCount: description.members.length,
      desiredPrimaryIndex: description.spec.desiredPrimaryIndex,
      autoFailover: description.spec.autoFailover,
      failoverAfterMs: description.spec.failoverAfterMs,
      writerSemiSync: description.members.length > 1,
      primaryUnreachableSinceMs: this.#primaryUnreachableSinceMs,
      status: { currentPrimary: status.currentPrimary, operation: status.operation },
      instances,
    };
  }

  async #observeMember(member: MemberDescription, signal: AbortSignal): Promise<InstanceObservation> {
    const alive = isAlive(member.pid);
    let server: InstanceObservation['server'];
    if (alive) {
      try {
        const state = await onInstance(this, member.name, 'observing it', (c) => c.replication.replicationState(), signal, observeTimeoutMs);
        server = serverObservation(state, (host, port) => this.#description.members.find((m) => m.host === host && m.port === port)?.name);
      } catch (error) {
        if (signal.aborted) throw error;
        // Unreachable is an observation, not an error: server stays undefined.
      }
    }
    return {
      name: member.name,
      index: member.index,
      exists: alive,
      podReady: server !== undefined,
      phase: alive ? 'Running' : undefined,
      nodeName: `host-${member.index}`,
      nodeUnschedulable: false,
      podDeleting: false,
      server,
    };
  }

  /** One reconcile: observe, decide, act. Rejects only when `signal` aborts; other failures are in the record. */
  async tick(signal: AbortSignal): Promise<TickRecord> {
    const observation = await this.observe(signal);
    const decision = decide(observation);
    let record: TickRecord;
    try {
      const outcome = await act(decision, {
        access: this,
        routing: this,
        settings: this.settings,
        recorder: this.recorder,
        executor: this.#executor,
        seeding: processSeeding,
        now: () => new Date(),
      }, signal);
      record = { atMs: observation.nowMs, decision, outcome };
    } catch (error) {
      if (signal.aborted) throw error;
      record = { atMs: observation.nowMs, decision, error: error instanceof Error ? error.message : String(error) };
    }
    this.ticks.push(record);
    if (this.ticks.length > 1000) this.ticks.shift();
    this.#options.onTick?.(record);
    return record;
  }

  /**
   * Ticks every `intervalMs` (the controller's requeue) until stopped. Each
   * tick gets its own signal, as each reconcile does.
   */
  startLoop(intervalMs = tickIntervalMs): TickLoop {
    const stopping = new AbortController();
    const current = new Set<AbortController>();
    const running = (async (): Promise<void> => {
      while (!stopping.signal.aborted) {
        const reconcile = new AbortController();
        current.add(reconcile);
        try {
          await this.tick(reconcile.signal);
        } catch (error) {
          if (!reconcile.signal.aborted) throw error;
        } finally {
          current.delete(reconcile);
        }
        await sleep(intervalMs);
      }
    })();
    return {
      async stop() {
        stopping.abort();
        for (const reconcile of current) reconcile.abort(new Error('the tick loop stopped'));
        await running;
      },
    };
  }

  /** Ticks until `done` holds for a tick's record (or the observation after it); throws with the last records on timeout. */
  async tickUntil(what: string, done: (record: TickRecord) => boolean, timeoutMs = 20_000): Promise<TickRecord> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const record = await this.tick(new AbortController().signal);
      if (done(record)) return record;
      if (Date.now() > deadline) {
        const last = this.ticks.slice(-5).map(describeTick).join('\n  ');
        throw new Error(`${this.#description.name}: ${what} not reached within ${timeoutMs} ms; last ticks:\n  ${last}`);
      }
      await sleep(tickIntervalMs);
    }
  }

  async close(): Promise<void> {
    const clients = [...this.#clients.values()];
    this.#clients.clear();
    await Promise.all(clients.map((c) => c.close()));
  }
}

/** One line for a tick, for failure messages and logs. */
export function describeTick(record: TickRecord): string {
  const decision = record.decision;
  const what = 'reason' in decision ? `${decision.kind}: ${decision.reason}` : decision.kind === 'continue' ? `continue ${decision.operation.type} at ${decision.operation.step}` : decision.kind;
  const outcome = record.error !== undefined ? `error: ${record.error}` : JSON.stringify(record.outcome);
  return `${new Date(record.atMs).toISOString()} ${what} → ${outcome}`;
}
