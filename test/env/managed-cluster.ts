// What the e2e test and the failover benchmark do with a managed MySQLCluster
// on a local cluster: install the operator by its chart, find the cluster's
// pods and its writer, wait for something to happen.
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunningLocalCluster } from './cluster/cluster.ts';
import { devOperatorRelease, installOperator } from './devcluster.ts';
import { kubectl, type KubectlTarget } from './kubectl.ts';

export const operatorNamespace = devOperatorRelease.namespace;
/** The Deployment the chart installs under the release name `flightdeck`. */
export const operatorDeployment = 'flightdeck-flightdeck-operator';

/** Imports the operator's image into the nodes and installs the chart (release `flightdeck`), waiting for it to run. */
export async function installOperatorByChart(cluster: RunningLocalCluster): Promise<void> {
  // What `dev up --nodes` does, without its progress lines.
  await installOperator(cluster, async (_label, work) => work());
}

export interface ClusterPod {
  metadata: { name: string; labels?: Record<string, string>; deletionTimestamp?: string };
  spec: { nodeName?: string };
  status: { phase?: string; conditions?: { type: string; status: string }[] };
}

/** The instances of a MySQLCluster, by the operator's cluster label. */
export function clusterPods(target: KubectlTarget, namespace: string, cluster: string): ClusterPod[] {
  const out = kubectl(target, ['get', 'pods', '-n', namespace, '-l', `flightdeck.t7.io/cluster=${cluster}`, '-o', 'json']);
  return (JSON.parse(out) as { items: ClusterPod[] }).items;
}

/** The pod labelled writer; throws when two are, which must never happen. */
export function writerPod(target: KubectlTarget, namespace: string, cluster: string): ClusterPod | undefined {
  const writers = clusterPods(target, namespace, cluster).filter((p) => p.metadata.labels?.['flightdeck.t7.io/role'] === 'writer');
  if (writers.length > 1) throw new Error(`two pods of ${namespace}/${cluster} labelled writer: ${writers.map((p) => p.metadata.name).join(', ')}`);
  return writers[0];
}

export function isPodReady(pod: ClusterPod): boolean {
  return pod.metadata.deletionTimestamp === undefined && pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
}

/** Polls `probe` every 250 ms until it returns a value. */
export async function eventually<T>(what: string, probe: () => T | undefined, timeoutMs = 180_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(250);
  }
}
