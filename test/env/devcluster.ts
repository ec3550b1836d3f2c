// `flightdeck dev up --nodes N`: the local environment as a cluster with real
// nodes (test/env/cluster) instead of the control plane alone — a ready
// platform: the control plane, controllers, cluster DNS, N nodes, the default
// StorageClass and its provisioner, and the operator installed in the cluster
// by its own Helm chart (CRDs included) from the image built from this
// checkout, so that a user applies a MySQLCluster and nothing else. It has no
// MariaDB or operator on the host: pods cannot reach the host's loopback. Its
// record is `cluster.json` in the dev state directory, beside (never
// together with) the control-plane-only environment's `state.json`.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { importIntoNodes, isClusterRunning, startLocalCluster, stopLocalCluster, type LocalCluster, type RunningLocalCluster, type Step } from './cluster/cluster.ts';
import { chartDir, helm, helmDir } from './helmbuild/helm.ts';
import { operatorImage, operatorImageName } from './images/images.ts';
import { devStateDir } from './paths.ts';

const recordFile = join(devStateDir, 'cluster.json');
const clusterDir = join(devStateDir, 'cluster');

/** The recorded cluster of `dev up --nodes`, running or not; undefined when there is none. */
export function readDevCluster(): LocalCluster | undefined {
  if (!existsSync(recordFile)) return undefined;
  return JSON.parse(readFileSync(recordFile, 'utf8')) as LocalCluster;
}

/** The recorded cluster if all its processes run. */
export function runningDevCluster(): RunningLocalCluster | undefined {
  const cluster = readDevCluster();
  return cluster !== undefined && isClusterRunning(cluster) ? (cluster as RunningLocalCluster) : undefined;
}

/** The operator's Helm release in the cluster of `dev up --nodes`. */
export const devOperatorRelease = { name: 'flightdeck', namespace: 'flightdeck-system' } as const;

/**
 * Builds (or finds) the operator image, loads it into every node and installs
 * the chart with it — `helm upgrade --install`, so a second run after a failed
 * one finishes the job — and returns once the operator's Deployment is ready.
 */
export async function installOperator(cluster: RunningLocalCluster, step: Step): Promise<void> {
  const image = await step('building or finding the operator image', () => operatorImage());
  await step(`loading it into ${cluster.nodes.length} node(s)`, () => importIntoNodes(cluster, [image]));
  await step('building or finding helm', () => helmDir());
  const separator = operatorImageName.lastIndexOf(':');
  await step(`installing the operator with its Helm chart (release ${devOperatorRelease.namespace}/${devOperatorRelease.name}, CRDs included) and waiting for it`, () => {
    helm(
      [
        'upgrade', '--install', devOperatorRelease.name, chartDir,
        '--namespace', devOperatorRelease.namespace, '--create-namespace',
        '--set', `image.repository=${operatorImageName.slice(0, separator)}`,
        '--set-string', `image.tag=${operatorImageName.slice(separator + 1)}`,
        '--set', 'image.pullPolicy=IfNotPresent',
        '--wait', '--timeout=180s',
      ],
      { kubeconfig: cluster.controlPlane.kubeconfig },
    );
  });
}

function record(cluster: LocalCluster): void {
  writeFileSync(recordFile, JSON.stringify(cluster, null, 2), { mode: 0o600 });
}

/**
 * Starts a cluster of `nodes` nodes unless one with that many runs already.
 * Throws when one with another number of nodes runs (`dev down` first); a
 * cluster whose processes died is removed and started afresh.
 */
export async function devClusterUp(nodes: number, step: Step): Promise<{ cluster: RunningLocalCluster; started: boolean }> {
  const existing = readDevCluster();
  if (existing !== undefined) {
    if (isClusterRunning(existing)) {
      if (existing.nodes.length === nodes) return { cluster: existing as RunningLocalCluster, started: false };
      throw new Error(`a local cluster with ${existing.nodes.length} node(s) runs; stop it with ./bin/flightdeck dev down first`);
    }
    await step('removing the stopped cluster', () => devClusterDown());
  }
  mkdirSync(devStateDir, { recursive: true });
  const cluster = await startLocalCluster({ dir: clusterDir, nodes, step, onChange: record });
  try {
    await installOperator(cluster, step);
  } catch (error) {
    await stopLocalCluster(cluster);
    rmSync(recordFile, { force: true });
    throw error;
  }
  record(cluster);
  return { cluster, started: true };
}

/** Removes the recorded cluster, if any; returns whether there was one. */
export async function devClusterDown(): Promise<boolean> {
  const cluster = readDevCluster();
  if (cluster === undefined) return false;
  await stopLocalCluster(cluster);
  rmSync(recordFile, { force: true });
  return true;
}
