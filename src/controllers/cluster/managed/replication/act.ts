// Carries out one decision of decide(): the plain ones directly (make the
// writer, configure replicas, fence), a switchover or failover through its
// recorded steps (src/replication/drive.ts: each step persisted before it acts). What cannot be done here yet, or needs a
// person, comes back as an outcome for status and Events.
import type { Decision } from '../../../../replication/decide.ts';
import { driveOperation, type DriveOutcome } from '../../../../replication/drive.ts';
import { startOperation, type Operation, type StepExecutor } from '../../../../replication/operation.ts';
import type { SeedControl } from '../pod-seeding.ts';
import type { InstanceAccess, ReplicationSettings, WriterRouting } from './instance-access.ts';
import { fence, makeReplica, makeWriter, onInstance } from './sql-steps.ts';

/** The cluster's record (status in Kubernetes) that decisions write before they act. */
export interface ClusterRecorder {
  /** The writer as recorded now (status.currentPrimary). */
  currentPrimary(): string | undefined;
  /** Records `primary` as the writer (status.currentPrimary) before it is made writable. */
  recordPrimary(primary: string, signal: AbortSignal): Promise<void>;
  /** Persists the operation about to run `operation.step`; has taken effect when it resolves. */
  persistOperation(operation: Operation, signal: AbortSignal): Promise<void>;
  /** An operation ended: record its primary, keep it as the last switchover or failover, clear the record of the one in progress. */
  endOperation(outcome: Extract<DriveOutcome, { kind: 'complete' | 'abandon' }>, signal: AbortSignal): Promise<void>;
}

export interface ActDependencies {
  readonly access: InstanceAccess;
  readonly routing: WriterRouting;
  readonly settings: ReplicationSettings;
  readonly recorder: ClusterRecorder;
  readonly executor: StepExecutor;
  /** Seeding and rebuilding instances from copies. */
  readonly seeding: SeedControl;
  readonly now: () => Date;
  /** Told each step before it runs, for logs and Events. */
  readonly onStep?: (operation: Operation) => void;
}

export type ActOutcome =
  | { readonly kind: 'steady' }
  /** Something changed (or was attempted; `problems` lists instances that failed): observe again soon. */
  | { readonly kind: 'acted'; readonly summary: string; readonly problems: readonly string[] }
  /** A switchover or failover ran until it ended or a step asked to be retried (`outcome.kind === 'retry'`: run again soon). */
  | { readonly kind: 'operation'; readonly outcome: DriveOutcome }
  | { readonly kind: 'waiting'; readonly reason: string }
  | { readonly kind: 'blocked'; readonly reason: string }
  /** An instance must be rebuilt from a copy of a healthy one, which only a person may ask for (its data may matter): reported. */
  | { readonly kind: 'needsRebuild'; readonly instance: string; readonly reason: string }
  /** An instance was kept read-only and out of service: it may hold writes that exist nowhere else. */
  | { readonly kind: 'quarantined'; readonly instance: string; readonly reason: string };

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export async function act(decision: Decision, deps: ActDependencies, signal: AbortSignal): Promise<ActOutcome> {
  const { access, routing, settings, recorder } = deps;
  switch (decision.kind) {
    case 'steady':
      return { kind: 'steady' };
    case 'wait':
      return { kind: 'waiting', reason: decision.reason };
    case 'blocked':
      return { kind: 'blocked', reason: decision.reason };
    case 'bootstrap':
      await recorder.recordPrimary(decision.primary, signal);
      await makeWriter(access, decision.primary, settings, signal);
      await routing.moveWriter(decision.primary, signal);
      return { kind: 'acted', summary: `${decision.primary} is the first writer: ${decision.reason}`, problems: [] };
    case 'configurePrimary':
      await makeWriter(access, decision.primary, settings, signal);
      await routing.moveWriter(decision.primary, signal);
      return { kind: 'acted', summary: `${decision.primary} made the writer: ${decision.reason}`, problems: [] };
    case 'fence': {
      const problems = await eachInstance(decision.instances, (name) => fence(access, name, settings, signal), signal);
      return { kind: 'acted', summary: `fenced ${decision.instances.join(', ')}: ${decision.reason}`, problems };
    }
    case 'configureReplicas': {
      const names = decision.instances.map((i) => i.instance);
      const problems = await eachInstance(
        names,
        (name) => makeReplica(access, name, decision.primary, settings, signal, { fromOwnBinlog: true }),
        signal,
      );
      return { kind: 'acted', summary: `${names.join(', ')} now replicate${names.length === 1 ? 's' : ''} from ${decision.primary}`, problems };
    }
    case 'switchover':
    case 'failover':
      return runToEnd(startOperation(decision, deps.now()), deps, signal);
    case 'continue':
      return runToEnd(decision.operation, deps, signal);
    case 'rebuild':
      // A reachable instance is never given a new start "from now": it gets
      // a copy of a healthy instance and replicates from the copy's position.
      switch (decision.step) {
        case 'seed': {
          const problems = await eachInstance([decision.instance], (name) => deps.seeding.offerDonor(name, decision.source, signal), signal);
          return { kind: 'acted', summary: `${decision.instance} is seeded from a copy of ${decision.source}: ${decision.reason}`, problems };
        }
        case 'replay': {
          const writer = recorder.currentPrimary() ?? decision.source;
          const problems = await eachInstance(
            [decision.instance],
            (name) => makeReplica(access, name, writer, settings, signal, { fromOwnBinlog: true }),
            signal,
          );
          return { kind: 'acted', summary: `${decision.instance} replicates from the first transaction of ${writer}`, problems };
        }
        case 'discard': {
          const problems = await eachInstance([decision.instance], (name) => deps.seeding.discardAndRestart(name, signal), signal);
          return { kind: 'acted', summary: `${decision.instance} restarts with its data discarded, to be seeded from a copy: ${decision.reason}`, problems };
        }
        case 'report':
          return { kind: 'needsRebuild', instance: decision.instance, reason: decision.reason };
      }
      break;
    case 'quarantine':
      await eachInstance([decision.instance], async (name) => {
        await fence(access, name, settings, signal);
        await onInstance(access, name, 'stopping its replication', (c) => c.replication.stopReplication(), signal);
      }, signal);
      return { kind: 'quarantined', instance: decision.instance, reason: decision.reason };
  }
}

async function runToEnd(operation: Operation, deps: ActDependencies, signal: AbortSignal): Promise<ActOutcome> {
  const outcome = await driveOperation(operation, {
    executor: deps.executor,
    persist: async (op, s) => {
      deps.onStep?.(op);
      await deps.recorder.persistOperation(op, s);
    },
    signal,
  });
  if (outcome.kind === 'retry') await deps.recorder.persistOperation(outcome.operation, signal);
  else await deps.recorder.endOperation(outcome, signal);
  return { kind: 'operation', outcome };
}

/** Runs `work` for each instance in turn; failures are collected (one instance must not hold up the others), an abort is not. */
async function eachInstance(names: readonly string[], work: (name: string) => Promise<unknown>, signal: AbortSignal): Promise<string[]> {
  const problems: string[] = [];
  for (const name of names) {
    try {
      await work(name);
    } catch (error) {
      if (signal.aborted) throw error;
      problems.push(`${name}: ${errorMessage(error)}`);
    }
  }
  return problems;
}
