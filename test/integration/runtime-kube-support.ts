// Helpers for the runtime's integration tests: a fresh namespace per test, a
// logger whose output the test can read, and polling for what the API server
// makes happen asynchronously.
import { pino, type Logger } from 'pino';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubeAccess } from '../../src/runtime/kube-access.ts';
import { kubeconfigAccess } from '../../src/runtime/kubeconfig.ts';
import { kubectl, type KubectlTarget } from '../env/kubectl.ts';

let counter = 0;

/** Creates a namespace no other test uses. */
export function freshNamespace(target: KubectlTarget, prefix: string): string {
  const name = `${prefix}-${process.pid}-${++counter}`;
  kubectl(target, ['create', 'namespace', name]);
  return name;
}

/** The API server and credentials of `target`'s kubeconfig. */
export function kubeConfigOf(target: KubectlTarget): KubeAccess {
  return kubeconfigAccess(target.kubeconfig, {});
}

export interface CapturedLogger {
  readonly logger: Logger;
  /** Every line logged so far, parsed. */
  readonly lines: Record<string, unknown>[];
  /** Everything logged so far, as written. */
  text(): string;
}

/** A debug-level logger that keeps its output in memory. */
export function capturedLogger(): CapturedLogger {
  const raw: string[] = [];
  const logger = pino(
    { level: 'debug' },
    {
      write(line: string) {
        raw.push(line);
      },
    },
  );
  return {
    logger,
    get lines() {
      return raw.map((line) => JSON.parse(line) as Record<string, unknown>);
    },
    text: () => raw.join(''),
  };
}

/** Polls `check` until it returns true; fails with `what` after `timeoutMs`. */
export async function eventually(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}
