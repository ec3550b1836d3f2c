// The SQL of one instance's role, shared by the operation steps and the
// plain decisions (act.ts): how a writer and a replica are set up, each
// idempotent. Statements to an instance are bounded in time: a server cut
// off from the network would otherwise hold a reconcile for minutes.
import type { MySQLClient } from '../../../../mysql/client.ts';
import { formatGtidList, isEmptyGtidList, mergeGtidStates, parseGtidPosition, parseGtidState, seededBinlogState } from '../../../../replication/gtid.ts';
import type { InstanceAccess, ReplicationSettings } from './instance-access.ts';

/** How long one round of statements to one instance may take before it counts as unreachable. */
export const statementTimeoutMs = 3000;

export class InstanceUnreachableError extends Error {
  constructor(instance: string, what: string, cause?: unknown) {
    super(`${instance}: ${what}`, { cause });
    this.name = 'InstanceUnreachableError';
  }
}

/**
 * Runs `work` with the instance's client, within `timeoutMs`; a failure or a
 * time-out discards the instance's client (its connections may hang) and
 * rejects. Rejects at once, without a statement, when `signal` has aborted.
 */
export async function onInstance<T>(
  access: InstanceAccess,
  instance: string,
  what: string,
  work: (client: MySQLClient) => Promise<T>,
  signal: AbortSignal,
  timeoutMs = statementTimeoutMs,
): Promise<T> {
  signal.throwIfAborted();
  const client = access.client(instance);
  if (client === undefined) throw new InstanceUnreachableError(instance, `${what}: the instance has no address`);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new InstanceUnreachableError(instance, `${what}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
  });
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => {
      reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work(client), timeout, aborted]);
  } catch (error) {
    access.discard(instance);
    throw error;
  } finally {
    clearTimeout(timer);
    // The signal lives as long as the controller: a listener per statement would pile up.
    if (onAbort !== undefined) signal.removeEventListener('abort', onAbort);
  }
}

/** The semi-sync settings of the writer: commits wait for a replica; it acknowledges nothing itself. */
export function writerSemiSync(settings: ReplicationSettings): { master: boolean; slave: boolean; timeoutMs: number; waitNoSlave: boolean } {
  return { master: settings.semiSync, slave: false, timeoutMs: settings.semiSyncTimeoutMs, waitNoSlave: settings.semiSyncWaitNoReplica };
}

/**
 * The semi-sync settings of a replica: it acknowledges what it receives, and
 * is no semi-sync master itself (a replica's own binlog writes must never
 * wait for acknowledgements nobody will send).
 */
export function replicaSemiSync(settings: ReplicationSettings): { master: boolean; slave: boolean; timeoutMs: number; waitNoSlave: boolean } {
  return { master: false, slave: settings.semiSync, timeoutMs: settings.semiSyncTimeoutMs, waitNoSlave: settings.semiSyncWaitNoReplica };
}

/**
 * Makes `instance` the writer: the replication account in place first (it
 * replicates to every replica from here), then replication stopped and
 * forgotten, semi-sync master on, read-only off — in that order
 * (Replication.promote). The account comes first because, once semi-sync
 * waits with no replica connected, creating it would wait for an
 * acknowledgement that no replica can send before the account exists: the
 * first writer of a new cluster would hang there for good.
 */
export async function makeWriter(access: InstanceAccess, instance: string, settings: ReplicationSettings, signal: AbortSignal): Promise<void> {
  await onInstance(access, instance, 'making it the writer', async (client) => {
    await client.replication.ensureReplicationUser(settings.replicationUser, '%', settings.replicationPassword);
    await client.replication.setSemiSync(writerSemiSync(settings));
    await client.replication.promote({ semiSyncMaster: settings.semiSync });
  }, signal);
}

/**
 * Makes `instance` a read-only replica of `primary`. `fromOwnBinlog`: a
 * former writer, whose own writes are in its binary log but not in
 * gtid_slave_pos (see Replication.configureReplica).
 */
export async function makeReplica(
  access: InstanceAccess,
  instance: string,
  primary: string,
  settings: ReplicationSettings,
  signal: AbortSignal,
  options: { fromOwnBinlog?: boolean } = {},
): Promise<void> {
  const source = access.replicationSource(primary);
  if (options.fromOwnBinlog === true) await adoptSeededCopy(access, instance, primary, signal);
  await onInstance(access, instance, `making it a replica of ${primary}`, async (client) => {
    await client.replication.setReadOnly(true);
    await client.replication.setSemiSync(replicaSemiSync(settings));
    await client.replication.configureReplica(
      { host: source.host, port: source.port, user: settings.replicationUser, password: settings.replicationPassword, connectRetrySeconds: 1, heartbeatSeconds: 1 },
      options.fromOwnBinlog === true ? { fromOwnBinlog: true } : {},
    );
  }, signal);
}

/** Read-only, and every application connection closed, so clients reconnect through the writer endpoint. */
export async function fence(access: InstanceAccess, instance: string, settings: ReplicationSettings, signal: AbortSignal): Promise<void> {
  await onInstance(access, instance, 'fencing it', (client) => client.replication.demote({ exceptUsers: settings.sparedUsers }), signal);
}

/**
 * A fresh copy (seeded by the seed init container: its data and
 * gtid_slave_pos, an empty binary log) gets the binary log history of its
 * source before it first replicates: the primary's state up to the copy's
 * position (gtid.ts seededBinlogState; the primary's history holds the
 * donor's, whichever instance the donor was). Any other instance is left as
 * it is. Resolves true when it adopted a history.
 */
export async function adoptSeededCopy(access: InstanceAccess, instance: string, primary: string, signal: AbortSignal): Promise<boolean> {
  const state = await onInstance(access, instance, 'reading its replication state', (c) => c.replication.replicationState(), signal);
  const copyPosition = parseGtidPosition(state.gtidSlavePos);
  if (!isEmptyGtidList(parseGtidState(state.gtidBinlogState)) || isEmptyGtidList(copyPosition)) return false;
  const primaryState = await onInstance(access, primary, 'reading its binary log state', (c) => c.replication.replicationState(), signal);
  const history = seededBinlogState(mergeGtidStates(parseGtidState(primaryState.gtidBinlogState)), copyPosition);
  return onInstance(access, instance, 'giving the seeded copy its binary log history', (c) => c.replication.adoptSeededBinlogState(formatGtidList(history)), signal);
}
