// The steps of a switchover and a failover (src/replication/operation.ts) as
// SQL against the instances and a move of the writer endpoint. Each step is
// idempotent and answers 'retry' for what time may fix (a replica still
// catching up, an instance not answering), 'abort' when it cannot succeed; the
// pure nextStep() decides what follows. Nothing here decides *whether* to
// switch over or fail over: decide() did, and the record says where we are.
import { describeSqlError } from '../../../../mysql/errors.ts';
import { containsGtidPosition, formatGtidList, parseGtidPosition } from '../../../../replication/gtid.ts';
import type { Operation, OperationStep, StepExecutor, StepResult } from '../../../../replication/operation.ts';
import { chooseFailoverTarget, receivedPosition } from '../../../../replication/targets.ts';
import type { InstanceAccess, ReplicationSettings, WriterRouting } from './instance-access.ts';
import { fence, makeReplica, makeWriter, onInstance } from './sql-steps.ts';

/** How long one attempt of waitForCatchUp / waitForRelayApplied waits on the server before answering 'retry'. */
const catchUpWaitSeconds = 1;

const done: StepResult = { outcome: 'done' };

function retry(reason: string): StepResult {
  return { outcome: 'retry', reason };
}

function message(error: unknown): string {
  return error instanceof Error ? (error.name === 'MySQLError' ? describeSqlError(error) : error.message) : String(error);
}

export class SqlStepExecutor implements StepExecutor {
  readonly #access: InstanceAccess;
  readonly #routing: WriterRouting;
  readonly #settings: ReplicationSettings;

  constructor(access: InstanceAccess, routing: WriterRouting, settings: ReplicationSettings) {
    this.#access = access;
    this.#routing = routing;
    this.#settings = settings;
  }

  async execute(step: OperationStep, operation: Operation, signal: AbortSignal): Promise<StepResult> {
    try {
      return await this.#run(step, operation, signal);
    } catch (error) {
      // A lost lease ends the operation here; the next leader resumes it.
      if (signal.aborted) throw error;
      return retry(`${step}: ${message(error)}`);
    }
  }

  async #run(step: OperationStep, operation: Operation, signal: AbortSignal): Promise<StepResult> {
    const { from, to } = operation;
    switch (step) {
      case 'fenceOldPrimary':
        if (this.#access.isGone(from)) return { outcome: 'abort', reason: `${from} went away before it was fenced` };
        await fence(this.#access, from, this.#settings, signal);
        return done;
      case 'waitForCatchUp':
        return this.#waitForCatchUp(from, to, signal);
      case 'promoteTarget':
        if (this.#access.isGone(to)) return { outcome: 'abort', reason: `${to} went away before it was promoted` };
        await makeWriter(this.#access, to, this.#settings, signal);
        return done;
      case 'moveWriter':
        await this.#routing.moveWriter(to, signal);
        return done;
      case 'repointReplicas':
        return this.#repoint(operation, signal);
      case 'rejoinOldPrimary':
        // A pod on its way out is configured by the decision when it is back.
        if (this.#access.isGone(from)) return done;
        try {
          // A pod being deleted waits in its preStop hook until it replicates from the new writer (statefulset.ts).
          await makeReplica(this.#access, from, to, this.#settings, signal, { fromOwnBinlog: true });
        } catch (error) {
          if (signal.aborted || this.#access.isLeaving?.(from) !== true) throw error;
        }
        return done;
      case 'rollBack':
        return this.#rollBack(operation, signal);
      case 'fenceReplicas':
        return this.#fenceReplicas(from, signal);
      case 'chooseTarget':
        return this.#chooseTarget(from, signal);
      case 'waitForRelayApplied':
        return this.#waitForRelayApplied(to, signal);
      case 'done':
        return done;
    }
  }

  /** The target has applied everything the fenced old primary wrote to its binary log. */
  async #waitForCatchUp(from: string, to: string, signal: AbortSignal): Promise<StepResult> {
    const position = await onInstance(this.#access, from, 'reading its binlog position', async (c) => (await c.replication.replicationState()).gtidBinlogPos, signal);
    const reached = await onInstance(
      this.#access,
      to,
      `waiting for ${position || 'nothing'}`,
      (c) => c.replication.waitForGtid(position, catchUpWaitSeconds),
      signal,
      (catchUpWaitSeconds + 3) * 1000,
    );
    if (reached === 'reached') return done;
    const state = await onInstance(this.#access, to, 'reading its replication state', (c) => c.replication.replicationState(), signal);
    const replica = state.replica;
    if (replica !== undefined && !replica.sqlRunning && replica.lastSqlErrno !== 0) {
      return { outcome: 'abort', reason: `${to} stopped applying (error ${replica.lastSqlErrno}) before it caught up with ${from}` };
    }
    return retry(`${to} has applied ${state.gtidCurrentPos || 'nothing'} of ${from}'s ${position}`);
  }

  /** Every other instance replicates from the new primary; those that do not answer are left to the decision. */
  async #repoint(operation: Operation, signal: AbortSignal): Promise<StepResult> {
    const observation = await this.#access.observe(signal);
    for (const instance of observation.instances) {
      if (instance.name === operation.to || instance.name === operation.from) continue;
      if (instance.server === undefined || instance.podDeleting) continue;
      if (instance.server.replica?.sourceHost === operation.to && instance.server.replica.ioThread !== 'No' && instance.server.readOnly) continue;
      try {
        await makeReplica(this.#access, instance.name, operation.to, this.#settings, signal, { fromOwnBinlog: true });
      } catch (error) {
        // One that fails now is configured later by the decision: the writer has moved already.
        if (signal.aborted) throw error;
      }
    }
    return done;
  }

  /** Back to the old primary: only while no client could have written to the target (operation.ts: rollBackIsSafe). */
  async #rollBack(operation: Operation, signal: AbortSignal): Promise<StepResult> {
    const { from, to } = operation;
    if (this.#access.isGone(from)) return { outcome: 'abort', reason: `${from} is gone; it cannot take the writer back` };
    const toState = this.#access.isGone(to)
      ? undefined
      : await onInstance(this.#access, to, 'reading its position', (c) => c.replication.replicationState(), signal).catch(() => undefined);
    const fromState = await onInstance(this.#access, from, 'reading its position', (c) => c.replication.replicationState(), signal);
    if (toState !== undefined) {
      const ahead = parseGtidPosition(toState.gtidBinlogPos).filter(
        (g) => !parseGtidPosition(fromState.gtidBinlogPos).some((f) => f.domain === g.domain && f.seq >= g.seq),
      );
      if (ahead.length > 0) return { outcome: 'abort', reason: `${to} has transactions ${from} lacks (${formatGtidList(ahead)})` };
      await makeReplica(this.#access, to, from, this.#settings, signal, { fromOwnBinlog: true });
    }
    await makeWriter(this.#access, from, this.#settings, signal);
    await this.#routing.moveWriter(from, signal);
    return done;
  }

  /**
   * Stops the IO thread of every replica that answers, so that an old primary
   * which is only cut off from the operator can no longer collect the
   * acknowledgements it needs to commit. A replica that neither answers nor
   * is known to be down might still acknowledge: retry until it is one or the other.
   */
  async #fenceReplicas(from: string, signal: AbortSignal): Promise<StepResult> {
    const observation = await this.#access.observe(signal);
    const unaccounted: string[] = [];
    for (const instance of observation.instances) {
      if (instance.name === from) continue;
      if (instance.server === undefined) {
        if (!this.#access.isGone(instance.name)) unaccounted.push(instance.name);
        continue;
      }
      const replica = instance.server.replica;
      try {
        await onInstance(this.#access, instance.name, 'stopping its IO thread', async (c) => {
          // A GTID replica whose threads are both stopped has its relay log
          // discarded by MariaDB when either starts again (measured on 10.11):
          // what it received and acknowledged but has not applied would go.
          // So a stopped SQL thread is started while the IO thread still runs.
          if (replica !== undefined && !replica.sqlRunning && replica.lastSqlErrno === 0 && replica.ioThread !== 'No') {
            await c.replication.startReplicationSql();
          }
          await c.replication.stopReplicationIo();
        }, signal);
      } catch (error) {
        if (signal.aborted) throw error;
        if (!this.#access.isGone(instance.name)) unaccounted.push(instance.name);
      }
    }
    if (unaccounted.length > 0) return retry(`${unaccounted.join(', ')} could not be fenced and is not known to be down`);
    return done;
  }

  /** With every reachable replica's received position frozen, the one that received the most. */
  async #chooseTarget(from: string, signal: AbortSignal): Promise<StepResult> {
    const observation = await this.#access.observe(signal);
    const choice = chooseFailoverTarget(observation, from);
    if (choice.kind === 'none') return retry(choice.reason);
    return { outcome: 'done', target: choice.target.name };
  }

  /** The target's SQL thread has applied everything its IO thread received before the fence. */
  async #waitForRelayApplied(to: string, signal: AbortSignal): Promise<StepResult> {
    if (this.#access.isGone(to)) return { outcome: 'abort', reason: `${to} went away` };
    const observation = await this.#access.observe(signal);
    const target = observation.instances.find((i) => i.name === to);
    const server = target?.server;
    if (server === undefined) return retry(`${to} does not answer`);
    const received = formatGtidList(receivedPosition(server));
    const replica = server.replica;
    if (replica !== undefined && !replica.sqlRunning) {
      if (replica.lastSqlErrno !== 0) return { outcome: 'abort', reason: `${to} cannot apply what it received (error ${replica.lastSqlErrno})` };
      if (containsGtidPosition(server.gtidCurrentPos, receivedPosition(server))) return done;
      // Both threads stopped (fenceReplicas stopped the IO thread, and starts a
      // stopped SQL thread first, so a person stopped this one): starting it now
      // would make MariaDB discard the relay log, and with it writes this
      // replica acknowledged. Wait for a person to apply it.
      return retry(
        `${to} received ${received} but applied only ${formatGtidList(server.gtidCurrentPos) || 'nothing'}, and its SQL thread is stopped: ` +
          'starting it with the IO thread stopped would discard the relay log (MariaDB does so for GTID replicas); apply it by hand',
      );
    }
    const reached = await onInstance(
      this.#access,
      to,
      `waiting to apply ${received || 'nothing'}`,
      (c) => c.replication.waitForGtid(received, catchUpWaitSeconds),
      signal,
      (catchUpWaitSeconds + 3) * 1000,
    );
    return reached === 'reached' ? done : retry(`${to} is still applying its relay log up to ${received}`);
  }
}
