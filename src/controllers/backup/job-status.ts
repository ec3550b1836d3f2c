// What a backup or restore Job came to, read from the Job's conditions and
// the result line its script leaves in the pod's termination message (the
// one channel that works for every target: the operator cannot read a PVC).
import type { KubeObject } from '../../runtime/informer.ts';
import { workContainer } from './job.ts';

export interface JobObject extends KubeObject {
  status?: {
    conditions?: { type: string; status: string; reason?: string; message?: string; lastTransitionTime?: string }[];
    startTime?: string;
    completionTime?: string;
    active?: number;
    failed?: number;
  };
}

/** A Job's pod as far as its result goes. */
export interface JobPod extends KubeObject {
  status?: {
    containerStatuses?: { name: string; state?: { terminated?: { exitCode: number; message?: string; finishedAt?: string } } }[];
  };
}

/** The label Kubernetes puts on a Job's pods. */
export const jobNameLabel = 'batch.kubernetes.io/job-name';

/** The script's result line (flightdeck-backup's `result`). */
export interface ScriptResult {
  readonly result: 'Completed' | 'Failed';
  readonly reason?: string;
  readonly message?: string;
  readonly id?: string;
  readonly sizeBytes?: number;
  readonly sha256?: string;
  readonly gtidPosition?: string;
  readonly databases?: readonly string[];
  readonly restored?: readonly { database: string; tables: number; rows: number }[];
  readonly verified?: boolean;
  readonly warning?: string;
  /** A backup on a PVC target: the runs it deleted (PRUNE_RUNS), after its own manifest was written. */
  readonly pruned?: readonly string[];
  /** Why it deleted no more of them: a prune failure never fails the run. */
  readonly pruneError?: string;
}

export type JobOutcome =
  | { readonly state: 'running' }
  | { readonly state: 'succeeded'; readonly result: ScriptResult; readonly completionTime?: string | undefined }
  | {
      readonly state: 'failed';
      readonly reason: string;
      readonly message: string;
      readonly completionTime?: string | undefined;
      /** The script refused (exit status 2, failing the Job through its pod failure policy): no retry can change that. */
      readonly refused: boolean;
    };

/** The result line in a termination message, or undefined when there is none (the pod was killed, say). */
export function parseScriptResult(message: string | undefined): ScriptResult | undefined {
  if (message === undefined || message.trim() === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(message);
  } catch {
    // Not ours: a runtime's message (OOMKilled, a crash) is no result.
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const result = (parsed as { result?: unknown }).result;
  if (result !== 'Completed' && result !== 'Failed') return undefined;
  return parsed as ScriptResult;
}

/** The newest result among the Job's pods (a retried Job has several). */
function latestResult(pods: readonly JobPod[]): ScriptResult | undefined {
  let latest: { at: string; result: ScriptResult } | undefined;
  for (const pod of pods) {
    const terminated = pod.status?.containerStatuses?.find((c) => c.name === workContainer)?.state?.terminated;
    const result = parseScriptResult(terminated?.message);
    if (result === undefined) continue;
    const at = terminated?.finishedAt ?? '';
    if (latest === undefined || at > latest.at) latest = { at, result };
  }
  return latest?.result;
}

/**
 * Running until the Job has a Complete or Failed condition. A complete Job
 * whose pods are gone (garbage-collected) or left no result still counts
 * as failed: without the result there is no size or checksum to record.
 */
export function jobOutcome(job: JobObject, pods: readonly JobPod[]): JobOutcome {
  const conditions = job.status?.conditions ?? [];
  const complete = conditions.find((c) => c.type === 'Complete' && c.status === 'True');
  const failed = conditions.find((c) => c.type === 'Failed' && c.status === 'True');
  const completionTime = job.status?.completionTime;
  const result = latestResult(pods);
  if (complete !== undefined) {
    if (result?.result === 'Completed') return { state: 'succeeded', result, completionTime };
    return { state: 'failed', reason: 'ResultMissing', message: `Job ${job.metadata.name} completed but left no result in its pod's termination message`, completionTime, refused: false };
  }
  if (failed !== undefined) {
    // A failed Job has no completionTime; the condition's transition is when it ended.
    const endTime = completionTime ?? failed.lastTransitionTime;
    const refused = failed.reason === 'PodFailurePolicy';
    if (result?.result === 'Failed') {
      return { state: 'failed', reason: result.reason ?? 'Failed', message: result.message ?? 'the Job failed', completionTime: endTime, refused };
    }
    // Deadline exceeded, backoff limit reached with pods killed: the Job says why.
    return { state: 'failed', reason: failed.reason ?? 'JobFailed', message: `Job ${job.metadata.name} failed: ${failed.message ?? failed.reason ?? 'no reason given'}`, completionTime: endTime, refused };
  }
  return { state: 'running' };
}
