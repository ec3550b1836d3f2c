// The MySQLCluster's status as the record of a managed cluster's replication:
// which instance is the writer and which switchover or failover is under way,
// written before the step that depends on it acts (ClusterRecorder). Every
// write carries the whole status this operator owns — server-side apply
// removes what a write leaves out — so the recorder keeps the current draft
// and each write starts from it.
import type { MySQLCluster, MySQLClusterStatus } from '../../../api/mysqlcluster.ts';
import { durationSecondsText } from '../../../api/mysqlcluster.ts';
import { kubernetesTime } from '../../../runtime/conditions.ts';
import type { DriveOutcome } from '../../../replication/drive.ts';
import type { Operation } from '../../../replication/operation.ts';
import { operationFromStatus } from '../../../replication/operation-record.ts';
import type { RecordedStatus } from '../../../replication/observations.ts';
import type { ControllerContext } from '../../context.ts';
import type { ClusterRecorder } from './replication/act.ts';

export type EndedOperation = Extract<DriveOutcome, { kind: 'complete' | 'abandon' }>;

export class StatusRecorder implements ClusterRecorder {
  readonly #context: ControllerContext;
  readonly #cluster: MySQLCluster;
  #status: MySQLClusterStatus;
  /** Told when an operation ends, for Events and metrics. */
  readonly #onEnded: (ended: EndedOperation, durationMs: number) => void;

  constructor(context: ControllerContext, cluster: MySQLCluster, onEnded: (ended: EndedOperation, durationMs: number) => void) {
    this.#context = context;
    this.#cluster = cluster;
    this.#status = structuredClone(cluster.status ?? {});
    this.#onEnded = onEnded;
  }

  /** The status as written so far in this reconcile. */
  get status(): MySQLClusterStatus {
    return this.#status;
  }

  /** What decide() reads of the record. Throws OperationRecordError for an operation record that cannot be resumed. */
  recorded(): RecordedStatus {
    return { currentPrimary: this.#status.currentPrimary, operation: operationFromStatus(this.#status.operation) };
  }

  currentPrimary(): string | undefined {
    return this.#status.currentPrimary;
  }

  async recordPrimary(primary: string, signal: AbortSignal): Promise<void> {
    if (this.#status.currentPrimary === primary) return;
    await this.#write({ ...this.#status, currentPrimary: primary }, signal);
  }

  async persistOperation(operation: Operation, signal: AbortSignal): Promise<void> {
    const record = {
      type: operation.type,
      from: operation.from,
      to: operation.to,
      reason: operation.reason,
      step: operation.step,
      startedAt: operation.startedAt,
      attempt: operation.attempt,
      ...(operation.message === undefined ? {} : { message: operation.message }),
    };
    await this.#write({ ...this.#status, operation: record }, signal);
  }

  async endOperation(ended: EndedOperation, signal: AbortSignal): Promise<void> {
    const operation = ended.operation;
    const now = this.#context.now();
    const durationMs = Math.max(0, now.getTime() - Date.parse(operation.startedAt));
    const change = {
      time: kubernetesTime(now),
      from: operation.from,
      to: ended.primary,
      reason: ended.kind === 'abandon' ? ended.reason : operation.reason,
      durationSeconds: durationSecondsText(durationMs),
    };
    const rest = { ...this.#status };
    delete rest.operation;
    await this.#write(
      { ...rest, currentPrimary: ended.primary, ...(operation.type === 'Failover' ? { lastFailover: change } : { lastSwitchover: change }) },
      signal,
    );
    this.#onEnded(ended, durationMs);
  }

  /** Replaces the draft without writing (the final status phase writes it with its conditions). */
  update(fields: Partial<MySQLClusterStatus>): void {
    this.#status = { ...this.#status, ...fields };
  }

  async #write(status: MySQLClusterStatus, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    await this.#context.kube.applyStatus({
      apiVersion: this.#cluster.apiVersion,
      kind: this.#cluster.kind,
      metadata: { name: this.#cluster.metadata.name, namespace: this.#cluster.metadata.namespace },
      status,
    });
    this.#status = status;
  }
}
