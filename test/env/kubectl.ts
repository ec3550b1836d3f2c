// kubectl from the same build as the API server, run against a kubeconfig —
// how tests and the local environment act as a user would.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export interface KubectlTarget {
  readonly binDir: string;
  readonly kubeconfig: string;
}

export interface KubectlResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs kubectl and returns its exit status and output; never throws for a failed command. */
export function kubectlResult(target: KubectlTarget, args: readonly string[], input?: string): KubectlResult {
  const result = spawnSync(join(target.binDir, 'kubectl'), ['--kubeconfig', target.kubeconfig, ...args], {
    encoding: 'utf8',
    input,
  });
  if (result.error !== undefined) throw result.error;
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** Runs kubectl and returns its stdout; throws with stderr when it fails. */
export function kubectl(target: KubectlTarget, args: readonly string[], input?: string): string {
  const result = kubectlResult(target, args, input);
  if (result.status !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${result.status}): ${result.stderr.trim()}`);
  return result.stdout;
}
