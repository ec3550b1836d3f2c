// The server configuration of a managed cluster: one my.cnf shared by every
// instance (server_id, the one per-instance option, comes from the pod's
// ordinal on the command line; see statefulset.ts), kept in a ConfigMap and
// read by mariadbd with --defaults-extra-file, after the image's own files,
// so that it wins over them.
import { createHash } from 'node:crypto';
import type { ManagedServers, ReplicationSettings } from '../../../../api/normalize.ts';
import { maxSemiSyncTimeoutMs } from '../../../../mysql/replication-sql.ts';
import { clusterLabels } from './labels.ts';
import { splitUserSettings, type LiveSetting, type UserSettings } from './my-cnf.ts';
import { childMetadata, type ChildMetadata, type ClusterOwner } from './owner.ts';
import { mariadbContainer } from './names.ts';

/** The ConfigMap key, and the file name mariadbd reads. */
export const myCnfKey = 'my.cnf';

/** Binary logs are kept a week unless spec.myCnf says otherwise: long enough for a reader that was down over a weekend to catch up instead of being rebuilt. */
export const defaultBinlogRetentionSeconds = 7 * 24 * 3600;

/** rpl_semi_sync_master_timeout (milliseconds) when the writer must never fall back to asynchronous replication: the longest the SQL client sets. */
export const semiSyncNoFallbackTimeoutMs = maxSemiSyncTimeoutMs;

/** The semi-synchronous replication settings of the writer, for the reconciler to apply when it promotes one. */
export interface SemiSyncSettings {
  /** Whether the writer waits for a reader at all (spec.replication.mode SemiSync). */
  readonly enabled: boolean;
  /** rpl_semi_sync_master_timeout. */
  readonly timeoutMs: number;
  /** rpl_semi_sync_master_wait_no_slave: keep waiting while no reader is connected. */
  readonly waitNoSlave: boolean;
  readonly waitPoint: 'AFTER_SYNC';
}

/**
 * Whether the writer's commits wait for a reader's acknowledgement: semi-sync
 * asked for, and at least one reader wanted. A lone writer would wait for
 * nobody, so every write to a cluster without readers would hang.
 */
export function writerWaitsForReaders(managed: ManagedServers): boolean {
  return managed.replication.mode === 'SemiSync' && managed.readers > 0;
}

export function semiSyncSettings(replication: ReplicationSettings): SemiSyncSettings {
  return {
    enabled: replication.mode === 'SemiSync',
    // Without fallback a write waits as long as it takes: a write acknowledged
    // to a client is then always on a second instance.
    timeoutMs: replication.allowAsyncFallback ? replication.semiSyncTimeoutSeconds * 1000 : semiSyncNoFallbackTimeoutMs,
    waitNoSlave: true,
    // AFTER_SYNC: the commit becomes visible to other clients only once a
    // reader has it, so nobody reads a write that a failover could lose.
    waitPoint: 'AFTER_SYNC',
  };
}

const quantityUnits: Readonly<Record<string, number>> = {
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  Ti: 1024 ** 4,
};

/** Bytes of a Kubernetes memory quantity ("2Gi", "1500M", "1073741824"), or undefined for a form this does not read. */
export function memoryBytes(quantity: unknown): number | undefined {
  if (typeof quantity === 'number') return Number.isFinite(quantity) && quantity > 0 ? quantity : undefined;
  if (typeof quantity !== 'string') return undefined;
  const match = /^([0-9]+(?:\.[0-9]+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(quantity.trim());
  if (match?.[1] === undefined) return undefined;
  const bytes = Number(match[1]) * (quantityUnits[match[2] ?? ''] ?? Number.NaN);
  return Number.isFinite(bytes) ? Math.floor(bytes) : undefined;
}

/** The smallest buffer pool worth setting: MariaDB's own default. */
const minimumBufferPool = 128 * 1024 * 1024;

/**
 * innodb_buffer_pool_size for the container's memory: half of its limit (or
 * request), leaving the rest for connections, sort and join buffers and the
 * binary log cache of many sites' sessions. Undefined without a memory figure,
 * or with too little for more than MariaDB's default.
 */
export function bufferPoolBytes(resources: Readonly<Record<string, unknown>> | undefined): number | undefined {
  const figure = (kind: string): unknown => {
    const entry = resources?.[kind];
    return entry !== null && typeof entry === 'object' ? (entry as Record<string, unknown>).memory : undefined;
  };
  const memory = memoryBytes(figure('limits')) ?? memoryBytes(figure('requests'));
  if (memory === undefined) return undefined;
  const mib = 1024 * 1024;
  const half = Math.floor(memory / 2 / mib) * mib;
  return half > minimumBufferPool ? half : undefined;
}

/** Defaults a user may override in spec.myCnf (they come first; a later line wins). */
function defaultOptions(resources: Readonly<Record<string, unknown>> | undefined): string[] {
  const bufferPool = bufferPoolBytes(resources);
  return [
    ...(bufferPool === undefined ? [] : [`innodb_buffer_pool_size = ${bufferPool}`]),
    `binlog_expire_logs_seconds = ${defaultBinlogRetentionSeconds}`,
    // Durable commits: an acknowledged write survives a crash of the instance.
    'innodb_flush_log_at_trx_commit = 1',
    'sync_binlog = 1',
    'character_set_server = utf8mb4',
    'collation_server = utf8mb4_unicode_ci',
    // A reader notices a silent writer within seconds instead of a minute (heartbeats every 5 s).
    'slave_net_timeout = 10',
  ];
}

/** Options the operator depends on; written last, so they win over anything before. */
function operatorOptions(): string[] {
  return [
    `port = ${mariadbContainer.port}`,
    // All addresses, IPv4 and IPv6: the pod's address changes with every restart.
    'bind_address = *',
    // Accounts use '%' and addresses; a DNS lookup per connection only adds latency and a failure mode.
    'skip_name_resolve = ON',
    // GTID replication with row events; every instance writes binary logs so any reader can become the writer.
    'log_bin = mariadb-bin',
    'relay_log = relay-bin',
    'binlog_format = ROW',
    'log_slave_updates = ON',
    'gtid_strict_mode = ON',
    // Never writable by itself: a restarted former writer must not accept
    // writes before the operator knows who the writer is. The operator turns
    // it off on the writer.
    'read_only = ON',
    // Replication starts when the operator says from where, not from what an
    // instance remembers (the writer may have changed while it was down).
    'skip_slave_start = ON',
  ];
}

/**
 * Semi-synchronous options at start. The writer side stays off until the
 * operator promotes an instance: a reader with it on would make its own
 * replication thread wait for acknowledgements nobody sends.
 */
function semiSyncOptions(replication: ReplicationSettings): string[] {
  const semiSync = semiSyncSettings(replication);
  return [
    'rpl_semi_sync_master_enabled = OFF',
    `rpl_semi_sync_slave_enabled = ${semiSync.enabled ? 'ON' : 'OFF'}`,
    `rpl_semi_sync_master_wait_point = ${semiSync.waitPoint}`,
    `rpl_semi_sync_master_wait_no_slave = ${semiSync.waitNoSlave ? 'ON' : 'OFF'}`,
    `rpl_semi_sync_master_timeout = ${semiSync.timeoutMs}`,
  ];
}

export interface ServerConfig {
  /** The my.cnf every instance starts with. */
  readonly myCnf: string;
  /**
   * sha256 of what only a restart applies: the operator's options, the
   * defaults and the user's options that are not dynamic. Goes into the pod
   * template (statefulset.ts), so a pod started with an older configuration
   * is found by comparing it. Live options and the semi-synchronous ones
   * (which the operator sets on running servers) are left out, so changing
   * them rolls nothing.
   */
  readonly restartChecksum: string;
  /** The user's options to apply with SET GLOBAL on every running instance. */
  readonly live: readonly LiveSetting[];
  /** The user's options left out, and why. */
  readonly refused: UserSettings['refused'];
}

export function serverConfig(managed: Pick<ManagedServers, 'myCnf' | 'replication' | 'resources'>): ServerConfig {
  const user = splitUserSettings(managed.myCnf);
  const restartPart = [
    '[mariadbd]',
    '# Defaults (spec.myCnf may override them)',
    ...defaultOptions(managed.resources),
    '# From spec.myCnf: applied by a restart',
    ...user.restart.map((o) => o.line),
    '[mariadbd]',
    '# Set by the operator (spec.myCnf cannot override them)',
    ...operatorOptions(),
  ];
  const livePart = [
    '# From spec.myCnf: applied live with SET GLOBAL, and here for the next start',
    ...user.live.map((s) => `${s.name} = ${s.value}`),
    '# Semi-synchronous replication (spec.replication); the operator enables the writer side on the writer',
    ...semiSyncOptions(managed.replication),
  ];
  const myCnf = [
    '# Generated by the flightdeck operator from the MySQLCluster; edits are overwritten.',
    ...restartPart,
    ...livePart,
    ...(user.refused.length === 0 ? [] : [`# Left out of spec.myCnf: ${user.refused.map((r) => r.name).join(', ')}`]),
    '',
  ].join('\n');
  return {
    myCnf,
    restartChecksum: createHash('sha256').update(restartPart.join('\n')).digest('hex'),
    live: user.live,
    refused: user.refused,
  };
}

export interface ConfigMapManifest {
  apiVersion: 'v1';
  kind: 'ConfigMap';
  metadata: ChildMetadata;
  data: Record<string, string>;
}

export function configMap(owner: ClusterOwner, name: string, config: ServerConfig): ConfigMapManifest {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: childMetadata(owner, name, clusterLabels(owner.name)),
    data: { [myCnfKey]: config.myCnf },
  };
}
