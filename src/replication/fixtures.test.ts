// Builders for observations in tests: a healthy three-instance cluster by
// default (db-0 primary, db-1 and db-2 replicating at 0-1-100), changed per
// situation with small overrides, so each table row shows only what differs.
// Named *.test.ts so that the build (tsconfig.build.json) leaves it out; it
// holds no tests itself.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { decide } from './decide.ts';
import { formatGtidList, parseGtidPosition, parseGtidState, type Gtid } from './gtid.ts';
import type { ClusterObservation, InstanceObservation, ReplicaObservation, ServerObservation } from './observations.ts';

export interface ServerShape {
  serverId?: number;
  readOnly?: boolean;
  /** gtid_current_pos; also gtid_binlog_pos, and the binlog state unless `state` is given. */
  pos?: string;
  /** gtid_binlog_state. */
  state?: string;
  replica?: ReplicaObservation;
}

export function server(shape: ServerShape = {}): ServerObservation {
  const pos = parseGtidPosition(shape.pos ?? '0-1-100');
  return {
    serverId: shape.serverId ?? 1,
    readOnly: shape.readOnly ?? true,
    gtidCurrentPos: pos,
    gtidBinlogPos: pos,
    gtidBinlogState: shape.state === undefined ? pos : parseGtidState(shape.state),
    gtidSlavePos: shape.replica === undefined ? [] : pos,
    replica: shape.replica,
    semiSyncSource: { enabled: true, active: shape.replica === undefined, clients: 0 },
  };
}

export interface ReplicaShape extends Partial<Omit<ReplicaObservation, 'gtidIoPos'>> {
  /** Gtid_IO_Pos as text. */
  ioPos?: string;
}

export function replicaOf(source: string | undefined, shape: ReplicaShape = {}): ReplicaObservation {
  const { ioPos, ...rest } = shape;
  return {
    sourceHost: source,
    ioThread: 'Yes',
    sqlRunning: true,
    secondsBehind: 0,
    lastIoErrno: 0,
    lastIoError: '',
    lastSqlErrno: 0,
    lastSqlError: '',
    usingGtid: 'Slave_Pos',
    ...rest,
    gtidIoPos: parseGtidPosition(ioPos ?? '0-1-100'),
  };
}

export function instance(index: number, shape: Partial<InstanceObservation> = {}): InstanceObservation {
  return {
    name: `db-${index}`,
    index,
    exists: true,
    podReady: true,
    phase: 'Running',
    nodeName: `node-${index}`,
    nodeUnschedulable: false,
    podDeleting: false,
    server: server({ serverId: index + 1 }),
    ...shape,
  };
}

/** A reachable replica of `source` at `pos` (received and applied), server_id index + 1. */
export function replicaInstance(index: number, source = 'db-0', pos = '0-1-100', shape: ReplicaShape = {}): InstanceObservation {
  return instance(index, { server: server({ serverId: index + 1, pos, replica: replicaOf(source, { ioPos: pos, ...shape }) }) });
}

/** An instance whose pod exists but whose server does not answer. */
export function silent(index: number, shape: Partial<InstanceObservation> = {}): InstanceObservation {
  return instance(index, { podReady: false, server: undefined, ...shape });
}

export const healthyPrimary = (): InstanceObservation => instance(0, { server: server({ serverId: 1, readOnly: false }) });

export function cluster(shape: Partial<ClusterObservation> & { currentPrimary?: string | undefined } = {}): ClusterObservation {
  const { currentPrimary, ...rest } = shape;
  const instances = rest.instances ?? [healthyPrimary(), replicaInstance(1), replicaInstance(2)];
  return {
    nowMs: 1_000_000,
    instanceCount: instances.filter((i) => i.index < 3).length,
    desiredPrimaryIndex: undefined,
    autoFailover: true,
    failoverAfterMs: 5_000,
    writerSemiSync: true,
    primaryUnreachableSinceMs: undefined,
    status: { currentPrimary: 'currentPrimary' in shape ? currentPrimary : 'db-0', operation: undefined },
    ...rest,
    instances,
  };
}

/** One row of a decision table. */
export interface Situation {
  name: string;
  observation: ClusterObservation;
  /** Fields the decision must have exactly; `reason` only when listed here, `errant` never (see below). */
  expected: Record<string, unknown>;
  /** A pattern the decision's reason must match. */
  reason?: RegExp;
  /** The decision's errant transactions, formatted. */
  errant?: string;
}

/** One test per situation: decide() on its observation gives the expected decision. */
export function checkSituations(situations: readonly Situation[]): void {
  for (const situation of situations) {
    it(situation.name, () => {
      const decision = decide(situation.observation) as { kind: string; reason?: string; errant?: readonly Gtid[] };
      const { reason, errant, ...rest } = decision;
      const { reason: exactReason, ...expected } = situation.expected;
      assert.deepEqual(rest, expected);
      if (exactReason !== undefined) assert.equal(reason, exactReason);
      if (situation.reason !== undefined) assert.match(reason ?? '', situation.reason);
      if (situation.errant !== undefined) assert.equal(formatGtidList(errant ?? []), situation.errant);
    });
  }
}
