// What the operator remembers about managed clusters between reconciles, in
// memory: SQL pools to the instances, what it last applied, since when each
// writer has been unreachable, and when volatile status fields were last
// written. All of it may be lost (a restart, a new leader) at the cost of a
// little extra work: the count towards a failover starts again, children are
// applied once more. Nothing safety-relevant lives here; that is in status.
import type { Logger } from 'pino';
import type { StatementObserver } from '../../../mysql/client.ts';
import type { OperatorMetrics } from '../../../runtime/metrics.ts';
import { LiveSettingsApplier } from './apply-live-settings.ts';
import { AppliedChildren } from './children.ts';
import { InstanceClients } from './instance-clients.ts';
import type { StorageCheck } from './storage-growth.ts';

/** An unsettled storage growth (resizing, claims yet to come) is looked at again this often. */
const storageRecheckMs = 10_000;

interface Unreachable {
  readonly primary: string;
  readonly sinceMs: number;
}

export class ManagedClusterState {
  readonly clients: InstanceClients;
  readonly children = new AppliedChildren();
  /** Which instances have the user's live settings, and what MariaDB made of them. */
  readonly liveSettings = new LiveSettingsApplier();
  readonly #unreachable = new Map<string, Unreachable>();
  readonly #volatileWrittenAt = new Map<string, number>();
  readonly #storage = new Map<string, { readonly check: StorageCheck; readonly atMs: number }>();
  /** Per-cluster metrics (lag, writer, failovers and switchovers); their series go when the cluster does. */
  readonly metrics: OperatorMetrics;

  constructor(options: { observer: StatementObserver; logger: Logger; metrics: OperatorMetrics }) {
    this.clients = new InstanceClients(options);
    this.metrics = options.metrics;
  }

  /**
   * When cluster `key`'s writer `primary` was first seen unreachable without
   * being seen reachable since; undefined when it answers (or there is none).
   */
  unreachableSince(key: string, primary: string | undefined, reachable: boolean, nowMs: number): number | undefined {
    if (primary === undefined || reachable) {
      this.#unreachable.delete(key);
      return undefined;
    }
    const known = this.#unreachable.get(key);
    if (known?.primary === primary) return known.sinceMs;
    this.#unreachable.set(key, { primary, sinceMs: nowMs });
    return nowMs;
  }

  /** Whether fields that change with every write (GTID positions, lag) may be written again for `key`. */
  volatileDue(key: string, nowMs: number, intervalMs: number): boolean {
    return nowMs - (this.#volatileWrittenAt.get(key) ?? 0) >= intervalMs;
  }

  volatileWritten(key: string, nowMs: number): void {
    this.#volatileWrittenAt.set(key, nowMs);
  }

  /** Whether cluster `key`'s volumes are to be checked against spec.size now: after its children were applied, or while the last check left something to wait for. */
  storageDue(key: string, nowMs: number, childrenApplied: boolean): boolean {
    const last = this.#storage.get(key);
    return childrenApplied || last === undefined || (!last.check.settled && nowMs - last.atMs >= storageRecheckMs);
  }

  storageChecked(key: string, check: StorageCheck, nowMs: number): void {
    this.#storage.set(key, { check, atMs: nowMs });
  }

  /** The StorageResized condition as last checked, if it was. */
  storageCondition(key: string): StorageCheck['condition'] | undefined {
    return this.#storage.get(key)?.check.condition;
  }

  /** A cluster was deleted: drop what is kept for it. */
  forget(key: string): void {
    const { namespace, name } = { namespace: key.slice(0, key.indexOf('/')), name: key.slice(key.indexOf('/') + 1) };
    this.clients.discardAll(`${namespace}/${name}-`);
    this.children.forget(key);
    this.liveSettings.forget(key);
    this.#unreachable.delete(key);
    this.#volatileWrittenAt.delete(key);
    this.#storage.delete(key);
    this.metrics.forgetCluster(namespace, name);
  }

  close(): void {
    this.clients.discardAll();
  }
}
