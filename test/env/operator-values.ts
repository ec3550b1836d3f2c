// Changing the installed operator's chart values for one e2e file, and
// putting back exactly the values it had: on the shared cluster the next
// file expects the chart's backup limit and jitter (or its own), not merely
// the chart's defaults. Each change waits for the operator's rollout, so the
// file's first object is reconciled under the new values.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { devOperatorRelease } from './devcluster.ts';
import { chartDir, helm } from './helmbuild/helm.ts';
import { kubectl, type KubectlTarget } from './kubectl.ts';
import { operatorDeployment } from './managed-cluster.ts';

function upgradeOperator(target: KubectlTarget, args: readonly string[]): void {
  helm(['upgrade', devOperatorRelease.name, chartDir, '--namespace', devOperatorRelease.namespace, ...args, '--wait', '--timeout=180s'], { kubeconfig: target.kubeconfig });
  kubectl(target, ['rollout', 'status', `deployment/${operatorDeployment}`, '-n', devOperatorRelease.namespace, '--timeout=180s']);
}

/** The release's user-supplied values as `helm get values -o json` prints them (`null` for none). */
export function operatorValues(target: KubectlTarget): string {
  return helm(['get', 'values', devOperatorRelease.name, '--namespace', devOperatorRelease.namespace, '--output', 'json'], { kubeconfig: target.kubeconfig });
}

/**
 * Sets `values` (`key.path` → value, as `helm --set` takes them) on top of
 * the release's own and waits for the rollout. Returns the values before,
 * for restoreOperatorValues.
 */
export function setOperatorValues(target: KubectlTarget, values: Readonly<Record<string, string | number>>): string {
  const before = operatorValues(target);
  upgradeOperator(target, ['--reuse-values', ...Object.entries(values).flatMap(([key, value]) => ['--set', `${key}=${value}`])]);
  return before;
}

/** Puts back exactly the values `previous` (from setOperatorValues) and waits for the rollout; asserts they are back. */
export function restoreOperatorValues(target: KubectlTarget, previous: string): void {
  const dir = mkdtempSync(join(tmpdir(), 'operator-values-'));
  try {
    const file = join(dir, 'values.json');
    writeFileSync(file, previous.trim() === 'null' ? '{}' : previous);
    upgradeOperator(target, ['--reset-values', '--values', file]);
    assert.deepEqual(JSON.parse(operatorValues(target)) ?? {}, JSON.parse(previous) ?? {}, "the operator's values are those it had before");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * For a file's after(): puts back `previous` when the file changed the values
 * (undefined when it never did) and returns what went wrong, if anything, so
 * that the rest of the clean-up still runs before the file asserts.
 */
export function putBackOperatorValues(target: KubectlTarget, previous: string | undefined): string[] {
  if (previous === undefined) return [];
  try {
    restoreOperatorValues(target, previous);
    return [];
  } catch (error) {
    return [`putting back the operator's values: ${error instanceof Error ? error.message : String(error)}`];
  }
}
