// helm, built from its Go module by build.sh beside this file, run as a user
// would run it. Used by the chart's tests (and the e2e tests' helm install).
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { kinds } from '../../../src/api/crds.ts';
import { kubectl, type KubectlTarget } from '../kubectl.ts';
import { repoRoot } from '../paths.ts';

/** The chart, in this checkout. */
export const chartDir = join(repoRoot, 'charts/flightdeck-operator');

let built: string | undefined;

/**
 * The directory build.sh put helm in, building it when the cache lacks it (a
 * cold build takes minutes; progress goes to stderr). It also holds
 * `monitoring.coreos.com_servicemonitors.yaml`, the Prometheus Operator's
 * ServiceMonitor CRD that the chart's optional ServiceMonitor is checked against.
 */
export function helmDir(): string {
  built ??= execFileSync(join(repoRoot, 'test/env/helmbuild/build.sh'), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  return built;
}

export interface HelmResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface HelmOptions {
  /** A kubeconfig for commands that talk to a cluster (install, upgrade, uninstall). */
  readonly kubeconfig?: string;
  readonly input?: string;
}

/**
 * Runs helm with its state (repositories, cache, plugins) in a directory of
 * its own under the cache, never the user's ~/.config/helm; never throws for a
 * failed command.
 */
export function helmResult(args: readonly string[], options: HelmOptions = {}): HelmResult {
  const dir = helmDir();
  const state = join(dir, 'state');
  const result = spawnSync(join(dir, 'helm'), args, {
    encoding: 'utf8',
    input: options.input,
    maxBuffer: 64 * 1024 * 1024,
    env: {
      PATH: process.env.PATH,
      HOME: state,
      HELM_CACHE_HOME: join(state, 'cache'),
      HELM_CONFIG_HOME: join(state, 'config'),
      HELM_DATA_HOME: join(state, 'data'),
      ...(options.kubeconfig === undefined ? {} : { KUBECONFIG: options.kubeconfig }),
    },
  });
  if (result.error !== undefined) throw result.error;
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** Runs helm and returns its stdout; throws with stderr when it fails. */
export function helm(args: readonly string[], options: HelmOptions = {}): string {
  const result = helmResult(args, options);
  if (result.status !== 0) throw new Error(`helm ${args.join(' ')} failed (${result.status}): ${result.stderr.trim()}`);
  return result.stdout;
}

/** The names of the operator's CRDs. */
export const crdNames: readonly string[] = kinds.map((kind) => `${kind.plural}.flightdeck.t7.io`);

/**
 * Labels and annotates the CRDs, installed before with kubectl, so that
 * `helm install` of `release` takes them over (docs/chart.md).
 */
export function labelCrdsForHelm(target: KubectlTarget, release: { name: string; namespace: string }): void {
  for (const crd of crdNames) {
    kubectl(target, ['label', 'crd', crd, 'app.kubernetes.io/managed-by=Helm', '--overwrite']);
    kubectl(target, ['annotate', 'crd', crd, `meta.helm.sh/release-name=${release.name}`, `meta.helm.sh/release-namespace=${release.namespace}`, '--overwrite']);
  }
}
