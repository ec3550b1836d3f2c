// The cluster's status for the process tests: what the MySQLCluster's status
// subresource holds in Kubernetes (current primary, the operation in
// progress, the last switchover and failover), kept in a JSON file that is
// replaced atomically, so an operator killed at any point leaves either the
// old or the new record and the next one resumes from it. Every persisted
// operation record is also appended to a history, so tests can see the
// sequence of steps across operator processes.
import { appendFileSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { ClusterRecorder } from '../../src/controllers/cluster/managed/replication/act.ts';
import type { DriveOutcome } from '../../src/replication/drive.ts';
import type { Operation } from '../../src/replication/operation.ts';
import { operationFromStatus } from '../../src/replication/operation-record.ts';

export interface EndedOperation {
  readonly operation: Operation;
  readonly outcome: 'succeeded' | 'rolledBack' | 'abandoned';
  readonly reason?: string | undefined;
}

export interface ClusterStatus {
  readonly currentPrimary: string | undefined;
  readonly operation: Operation | undefined;
  readonly lastSwitchover: EndedOperation | undefined;
  readonly lastFailover: EndedOperation | undefined;
}

const emptyStatus: ClusterStatus = { currentPrimary: undefined, operation: undefined, lastSwitchover: undefined, lastFailover: undefined };

/** Reads the status file; an absent file is a new cluster. The operation is checked as a controller checks status.operation. */
export function readStatus(file: string): ClusterStatus {
  if (!existsSync(file)) return emptyStatus;
  const raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  return {
    currentPrimary: typeof raw.currentPrimary === 'string' ? raw.currentPrimary : undefined,
    operation: operationFromStatus(raw.operation),
    lastSwitchover: raw.lastSwitchover as EndedOperation | undefined,
    lastFailover: raw.lastFailover as EndedOperation | undefined,
  };
}

/** Every operation record persisted, in order (one JSON line each). */
export function readOperationHistory(file: string): Operation[] {
  const history = historyFile(file);
  if (!existsSync(history)) return [];
  return readFileSync(history, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const operation = operationFromStatus(JSON.parse(line));
      if (operation === undefined) throw new Error(`an empty record in ${history}`);
      return operation;
    });
}

function historyFile(statusFile: string): string {
  return `${statusFile}.history`;
}

export class FileRecorder implements ClusterRecorder {
  readonly #file: string;
  /** Called right after a record is on disk; the crash tests end the process there. */
  readonly #afterPersist: ((operation: Operation) => void) | undefined;

  constructor(file: string, afterPersist?: (operation: Operation) => void) {
    this.#file = file;
    this.#afterPersist = afterPersist;
  }

  read(): ClusterStatus {
    return readStatus(this.#file);
  }

  currentPrimary(): string | undefined {
    return this.read().currentPrimary;
  }

  recordPrimary(primary: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    this.#write({ ...this.read(), currentPrimary: primary });
    return Promise.resolve();
  }

  persistOperation(operation: Operation, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    this.#write({ ...this.read(), operation });
    appendFileSync(historyFile(this.#file), `${JSON.stringify(operation)}\n`);
    this.#afterPersist?.(operation);
    return Promise.resolve();
  }

  endOperation(outcome: Extract<DriveOutcome, { kind: 'complete' | 'abandon' }>, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const ended: EndedOperation =
      outcome.kind === 'complete'
        ? { operation: outcome.operation, outcome: outcome.outcome }
        : { operation: outcome.operation, outcome: 'abandoned', reason: outcome.reason };
    const status = this.read();
    this.#write({
      currentPrimary: outcome.primary,
      operation: undefined,
      lastSwitchover: outcome.operation.type === 'Switchover' ? ended : status.lastSwitchover,
      lastFailover: outcome.operation.type === 'Failover' ? ended : status.lastFailover,
    });
    return Promise.resolve();
  }

  #write(status: ClusterStatus): void {
    writeFileSync(`${this.#file}.tmp`, JSON.stringify(status, null, 2));
    renameSync(`${this.#file}.tmp`, this.#file);
  }
}
