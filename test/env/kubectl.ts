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
    // The API server's /metrics and lists of thousands of objects exceed the 1 MiB default.
    maxBuffer: 256 * 1024 * 1024,
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

export interface ConditionExpectation {
  /** 'True' by default. */
  status?: 'True' | 'False';
  /** When given, the Ready condition's reason must be this. */
  reason?: string;
  timeoutMs?: number;
}

interface WithReady {
  status?: { conditions?: { type: string; status: string; reason: string; message: string }[] };
}

/**
 * Polls the object until its Ready condition matches, and returns it. Fails
 * with the last condition seen, so a test failure says what the operator said.
 */
export async function waitForReady<T = WithReady>(
  target: KubectlTarget,
  kind: string,
  namespace: string,
  name: string,
  expect: ConditionExpectation = {},
): Promise<T> {
  const deadline = Date.now() + (expect.timeoutMs ?? 30_000);
  let last = '(not found)';
  for (;;) {
    const result = kubectlResult(target, ['get', kind, name, '-n', namespace, '-o', 'json']);
    if (result.status === 0) {
      const object = JSON.parse(result.stdout) as WithReady;
      const ready = object.status?.conditions?.find((c) => c.type === 'Ready');
      if (ready !== undefined) {
        last = `${ready.status} ${ready.reason}: ${ready.message}`;
        if (ready.status === (expect.status ?? 'True') && (expect.reason === undefined || ready.reason === expect.reason)) return object as T;
      }
    }
    if (Date.now() > deadline) {
      throw new Error(`${kind} ${namespace}/${name} did not become Ready=${expect.status ?? 'True'}${expect.reason === undefined ? '' : ` (${expect.reason})`}; last: ${last}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}
