// One managed cluster as the replication actions see it (InstanceAccess and
// WriterRouting over Kubernetes): instances are the StatefulSet's pods,
// reached over SQL at their pod IPs as the operator's account; replicas reach
// each other through the headless Service's stable DNS names; the writer
// endpoint is the writer Service, which selects the pod labelled writer.
import type { ManagedServers } from '../../../api/normalize.ts';
import type { MySQLClient } from '../../../mysql/client.ts';
import type { KubeClient } from '../../../runtime/kube.ts';
import type { ClusterObservation, RecordedStatus, ServerObservation } from '../../../replication/observations.ts';
import type { NodeObject } from '../../context.ts';
import { writerWaitsForReaders } from './builders/config.ts';
import { labelKeys } from './builders/labels.ts';
import { mariadbContainer, podDnsName, podIndex, systemAccounts } from './builders/names.ts';
import type { InstanceClients } from './instance-clients.ts';
import { instanceObservations, podIsGone, type PodObject } from './pods.ts';
import type { InstanceAccess, WriterRouting } from './replication/instance-access.ts';
import { serverObservation } from './replication/server-observation.ts';
import { onInstance } from './replication/sql-steps.ts';

/** How long observing one instance may take; a primary cut off must be noticed within failoverAfterSeconds. */
const observeTimeoutMs = 2000;

export interface ClusterViewOptions {
  readonly namespace: string;
  readonly cluster: string;
  readonly managed: ManagedServers;
  readonly operatorPassword: string;
  /** The cluster's pods and nodes, read from the caches each time (they move while a reconcile runs). */
  readonly pods: () => readonly PodObject[];
  /** One of the cluster's pods by name, from the cache's index (the instance steps look pods up one at a time, many times a reconcile). */
  readonly pod: (name: string) => PodObject | undefined;
  readonly node: (name: string) => NodeObject | undefined;
  readonly clients: InstanceClients;
  readonly kube: KubeClient;
  /** The status as recorded now (it changes as the reconcile writes it). */
  readonly recorded: () => RecordedStatus;
  /** When the recorded primary was first seen unreachable, kept across reconciles by the caller. */
  readonly unreachableSince: (primary: string | undefined, reachable: boolean, nowMs: number) => number | undefined;
  readonly now: () => Date;
}

export class ClusterView implements InstanceAccess, WriterRouting {
  readonly #o: ClusterViewOptions;

  constructor(options: ClusterViewOptions) {
    this.#o = options;
  }

  #pod(instance: string): PodObject | undefined {
    return this.#o.pod(instance);
  }

  #clientKey(instance: string): string {
    return `${this.#o.namespace}/${instance}`;
  }

  client(instance: string): MySQLClient | undefined {
    const ip = this.#pod(instance)?.status?.podIP;
    if (ip === undefined || ip === '') return undefined;
    return this.#o.clients.client(this.#clientKey(instance), ip, mariadbContainer.port, systemAccounts.operator.user, this.#o.operatorPassword);
  }

  discard(instance: string): void {
    this.#o.clients.discard(this.#clientKey(instance));
  }

  replicationSource(instance: string): { host: string; port: number } {
    return { host: podDnsName(this.#o.cluster, instance, this.#o.namespace), port: mariadbContainer.port };
  }

  isGone(instance: string): boolean {
    return podIsGone(this.#pod(instance));
  }

  isLeaving(instance: string): boolean {
    return this.#pod(instance)?.metadata.deletionTimestamp !== undefined;
  }

  /** The pod a replica's configured source designates: its DNS name, or its IP. */
  #resolveSource(host: string): string | undefined {
    const suffix = `.${this.#o.cluster}-instances.${this.#o.namespace}.svc.cluster.local`;
    const name = host.endsWith(suffix) ? host.slice(0, -suffix.length) : this.#o.pods().find((p) => p.status?.podIP === host)?.metadata.name;
    return name !== undefined && podIndex(this.#o.cluster, name) !== undefined ? name : undefined;
  }

  async observe(signal: AbortSignal): Promise<ClusterObservation> {
    const pods = this.#o.pods();
    const servers = new Map<string, ServerObservation>();
    await Promise.all(
      pods
        .filter((p) => p.status?.podIP !== undefined && p.status.phase === 'Running')
        .map(async (pod) => {
          const name = pod.metadata.name;
          try {
            const state = await onInstance(this, name, 'observing it', (c) => c.replication.replicationState(), signal, observeTimeoutMs);
            servers.set(name, serverObservation(state, (host) => this.#resolveSource(host)));
          } catch (error) {
            if (signal.aborted) throw error;
            // Unreachable: the observation says so by leaving `server` undefined.
          }
        }),
    );
    const managed = this.#o.managed;
    const instanceCount = managed.readers + 1;
    const instances = instanceObservations(this.#o.cluster, instanceCount, pods, this.#o.node, servers);
    const status = this.#o.recorded();
    const nowMs = this.#o.now().getTime();
    const primary = status.currentPrimary;
    const primaryReachable = primary !== undefined && servers.has(primary);
    return {
      nowMs,
      instanceCount,
      desiredPrimaryIndex: managed.desiredPrimaryIndex,
      autoFailover: managed.replication.autoFailover,
      failoverAfterMs: managed.replication.failoverAfterSeconds * 1000,
      writerSemiSync: writerWaitsForReaders(managed),
      primaryUnreachableSinceMs: this.#o.unreachableSince(primary, primaryReachable, nowMs),
      status,
      instances,
    };
  }

  /** Moves the writer label: first off every other pod, then onto `instance`, so two pods never carry it at once. */
  async moveWriter(instance: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    for (const pod of this.#o.pods()) {
      if (pod.metadata.name !== instance && pod.metadata.labels?.[labelKeys.role] === 'writer') await this.setRole(pod, 'reader');
    }
    const target = this.#pod(instance);
    if (target === undefined) throw new Error(`pod ${instance} does not exist; the writer Service cannot select it`);
    if (target.metadata.labels?.[labelKeys.role] !== 'writer') await this.setRole(target, 'writer');
  }

  /** Sets the role label of `pod`, keeping its serves-reads label as it is. */
  async setRole(pod: PodObject, role: 'writer' | 'reader'): Promise<void> {
    await this.setLabels(pod, { role, servesReads: pod.metadata.labels?.[labelKeys.servesReads] === 'true' });
  }

  /** Applies the labels the operator owns on a pod (server-side apply: labels it no longer names are removed). */
  async setLabels(pod: PodObject, labels: { role: string | undefined; servesReads: boolean }): Promise<void> {
    await this.#o.kube.apply({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: pod.metadata.name,
        namespace: this.#o.namespace,
        labels: {
          ...(labels.role === undefined ? {} : { [labelKeys.role]: labels.role }),
          ...(labels.servesReads ? { [labelKeys.servesReads]: 'true' } : {}),
        },
      },
    });
  }
}
