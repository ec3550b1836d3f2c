// The local cluster with the operator installed by its chart that the e2e
// files about managed clusters and backups run on. `./scripts/test` starts
// one (three nodes) for all of them and passes it through
// FLIGHTDECK_E2E_OPERATOR_CLUSTER; they run one after another, each in
// namespaces of its own, which it deletes when done. Starting a cluster and
// installing the chart took 60–80 s per file, most of their suite's set-up.
// A file run on its own (`node --test test/e2e/x.test.ts`) starts its own.
import { readFileSync } from 'node:fs';
import { stopLocalCluster, type RunningLocalCluster, type Step } from './cluster/cluster.ts';
import { startE2eCluster } from './cluster/shared.ts';
import { kubectlResult } from './kubectl.ts';
import { installOperatorByChart } from './managed-cluster.ts';

export const operatorClusterVariable = 'FLIGHTDECK_E2E_OPERATOR_CLUSTER';

/** The kinds whose objects make the operator act, for kubectl. */
const flightdeckKinds = 'mysqlbackups,mysqlrestores,volumebackups,volumerestores,mysqlusers,mysqldatabases,mysqlclusters';

/** Nodes of the shared cluster: enough for the managed clusters' one-instance-per-node spread of a writer and two readers. */
export const operatorClusterNodes = 3;

/** Starts a cluster of `nodes` nodes (`<dir>/cluster.json` records it) and installs the operator by its chart. */
export async function startOperatorCluster(nodes: number, step: Step = async (_label, work) => work()): Promise<RunningLocalCluster> {
  const cluster = await startE2eCluster(nodes, step);
  try {
    await step('the operator installed by its chart', () => installOperatorByChart(cluster));
  } catch (error) {
    await stopLocalCluster(cluster);
    throw error;
  }
  return cluster;
}

export interface OperatorCluster {
  readonly cluster: RunningLocalCluster;
  /** Whether it is the shared cluster, which outlives this file. */
  readonly shared: boolean;
}

/**
 * For a test file's before(): the shared cluster when `./scripts/test` started
 * one, else a cluster of this file's own with `nodes` nodes (three unless the
 * file needs fewer). Either way the operator runs, installed by its chart.
 */
export async function operatorCluster(nodes = operatorClusterNodes): Promise<OperatorCluster> {
  const record = process.env[operatorClusterVariable];
  if (record !== undefined) return { cluster: JSON.parse(readFileSync(record, 'utf8')) as RunningLocalCluster, shared: true };
  return { cluster: await startOperatorCluster(nodes), shared: false };
}

/**
 * For the file's after(): stops a cluster of its own; on the shared one,
 * leaves it as the next file expects it — every node schedulable again (a
 * file that drains a node and fails midway would leave it cordoned) and the
 * file's `namespaces` deleted (in `default`, the operator's objects). The deletion is not waited for: a managed
 * cluster's pods take up to their hand-over time to go, and the next file
 * uses namespaces of its own.
 */
export async function releaseOperatorCluster(target: OperatorCluster | undefined, namespaces: readonly string[]): Promise<void> {
  if (target === undefined) return;
  if (!target.shared) {
    await stopLocalCluster(target.cluster);
    return;
  }
  const plane = target.cluster.controlPlane;
  const problems: string[] = [];
  for (const node of target.cluster.nodes) {
    const result = kubectlResult(plane, ['uncordon', node.network.name]);
    if (result.status !== 0) problems.push(`uncordon ${node.network.name}: ${result.stderr.trim()}`);
  }
  for (const namespace of namespaces) {
    // `default` cannot be deleted (the shared examples use it): what the operator acts on goes from it.
    const args = namespace === 'default' ? ['delete', flightdeckKinds, '--all', '-n', 'default', '--wait=false'] : ['delete', 'namespace', namespace, '--ignore-not-found', '--wait=false'];
    const result = kubectlResult(plane, args);
    if (result.status !== 0) problems.push(`${args.join(' ')}: ${result.stderr.trim()}`);
  }
  if (problems.length > 0) throw new Error(`the shared cluster was not left clean: ${problems.join('; ')}`);
}
