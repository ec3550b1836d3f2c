// What e2e tests on the local cluster do with objects, the way a user would
// with kubectl: apply a list server-side, read one back as JSON, wait until a
// probe answers, find a condition. Shared by the backup e2e files.
import { setTimeout as sleep } from 'node:timers/promises';
import { kubectl, kubectlResult, type KubectlTarget } from './kubectl.ts';

/** Server-side apply of `objects` as one List, under the e2e tests' field manager. */
export function applyObjects(target: KubectlTarget, objects: readonly unknown[]): void {
  kubectl(target, ['apply', '--server-side', '--field-manager=flightdeck-e2e', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
}

/** Calls `probe` every second until it returns a value (not undefined); throws naming `what` after `timeoutMs`. */
export async function eventually<T>(what: string, timeoutMs: number, probe: () => T | undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(1000);
  }
}

/** The object as `kubectl get -o json` shows it (parsed JSON, for the caller to type); undefined when it does not exist. */
export function getObject(target: KubectlTarget, kind: string, name: string, namespace: string): unknown {
  const result = kubectlResult(target, ['get', kind, name, '-n', namespace, '-o', 'json']);
  return result.status === 0 ? (JSON.parse(result.stdout) as unknown) : undefined;
}

export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

export function conditionOf(object: { status?: { conditions?: Condition[] } } | undefined, type: string): Condition | undefined {
  return object?.status?.conditions?.find((c) => c.type === type);
}
