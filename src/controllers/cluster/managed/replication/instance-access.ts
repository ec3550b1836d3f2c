// What the replication actions need of the world around the servers, kept
// apart from Kubernetes: the managed-cluster controller implements it with
// pods, their addresses and the writer Service's label; the failover tests
// implement it with plain mariadbd processes and a TCP forwarder. The steps
// themselves (step-executor.ts, act.ts) are the same code in both.
import type { MySQLClient } from '../../../../mysql/client.ts';
import type { ClusterObservation } from '../../../../replication/observations.ts';

export interface InstanceAccess {
  /**
   * A SQL client for the instance (by pod name) as the operator's account;
   * undefined when the instance has no address now (no pod, no IP).
   */
  client(instance: string): MySQLClient | undefined;
  /**
   * Called after a statement to `instance` failed or hung: the next client()
   * for it is a new one. A server cut off from the network leaves pooled
   * connections that never answer; they must not hold up the next attempt.
   */
  discard(instance: string): void;
  /** The address replicas use to reach `instance` (stable across restarts: a DNS name in Kubernetes). */
  replicationSource(instance: string): { host: string; port: number };
  /** Whether `instance` is known to be down (pod gone or not running, process dead): it can neither write nor acknowledge. */
  isGone(instance: string): boolean;
  /** Whether `instance` is on its way out (its pod is being deleted): it may stop answering any moment, and that is expected. */
  isLeaving?(instance: string): boolean;
  /** A fresh observation of the whole cluster (steps that choose, such as a failover's chooseTarget, look again). */
  observe(signal: AbortSignal): Promise<ClusterObservation>;
}

/** Moves the writer endpoint (the writer Service in Kubernetes). */
export interface WriterRouting {
  /**
   * Points the writer endpoint at `instance` only: it must never reach two
   * instances at once, so the old one is removed before the new one is added.
   * Idempotent.
   */
  moveWriter(instance: string, signal: AbortSignal): Promise<void>;
}

/** The cluster's replication settings, as the steps apply them. */
export interface ReplicationSettings {
  /** Commits wait for a replica's acknowledgement (spec.replication.mode SemiSync). */
  readonly semiSync: boolean;
  /** rpl_semi_sync_master_timeout: with allowAsyncFallback off, the maximum (a write waits rather than lose its guarantee). */
  readonly semiSyncTimeoutMs: number;
  /** rpl_semi_sync_master_wait_no_slave: keep waiting when no replica is connected at all (on unless async fallback is allowed). */
  readonly semiSyncWaitNoReplica: boolean;
  /** The account replicas connect with, and its password. */
  readonly replicationUser: string;
  readonly replicationPassword: string;
  /** Accounts whose connections survive a demotion: the operator's own. */
  readonly sparedUsers: readonly string[];
}
