// A rolling restart of a managed cluster, one step at a time: which pod to
// restart next (the controller deletes it; the StatefulSet, updateStrategy
// OnDelete, creates it again from the new template), when to move the writer
// away first, and when to wait. Pure: given one observation and which pods
// run an outdated pod template, it names the next step; the controller asks
// again on every pass, so the roll resumes wherever it was interrupted.
//
// The rules:
// - readers first, the highest ordinal first, one at a time: a reader is
//   restarted only when every other instance is ready and caught up (the
//   writer healthy, each other reader replicating within the lag limit), so
//   never two instances are down at once;
// - a reader that is down already and still outdated is restarted without
//   waiting for itself (a broken image is fixed by rolling again);
// - the writer is never restarted while it is the writer: once it is the only
//   outdated instance, it is switched over (the existing switchover: fence,
//   catch up, promote, move the writer label) to a reader already on the new
//   template, and then restarted as a reader;
// - nothing while a switchover or failover runs, nor without a writer.
// A cluster of one instance has no one to hand over to: its writer is
// restarted in place (a short outage the user chose by changing the template).
import type { ClusterObservation, InstanceObservation, ServerObservation } from './observations.ts';
import { chooseSwitchoverTarget, switchoverLagLimitSeconds, whyNotPlannedTarget } from './targets.ts';

/** How far along the roll is: instances of the desired count running the current template, of all of them. */
export interface RolloutProgress {
  readonly restarted: number;
  readonly total: number;
}

export type RolloutStep =
  /** Every instance runs the current template; `settling` lists those not yet ready and caught up (a restart just done). */
  | { readonly kind: 'upToDate'; readonly settling: readonly string[]; readonly progress: RolloutProgress }
  /** Delete `instance`'s pod (a reader, or the writer of a cluster of one). */
  | { readonly kind: 'restart'; readonly instance: string; readonly reason: string; readonly progress: RolloutProgress }
  /** Hand the writer over from `from` (outdated) to `to` (current) with a planned switchover. */
  | { readonly kind: 'switchover'; readonly from: string; readonly to: string; readonly reason: string; readonly progress: RolloutProgress }
  /** Outdated instances remain, but nothing may be restarted now. */
  | { readonly kind: 'wait'; readonly reason: string; readonly progress: RolloutProgress };

export interface RolloutInput {
  readonly observation: ClusterObservation;
  /** Pod names whose pod template (restart checksum) differs from the StatefulSet's. */
  readonly outdated: ReadonlySet<string>;
  /** spec.replication.maxReaderLagSeconds: a reader further behind is not caught up. */
  readonly maxLagSeconds: number;
}

type Reachable = InstanceObservation & { readonly server: ServerObservation };

/** Why the writer is not fit to carry the cluster while a reader restarts, or undefined when it is. */
function writerProblem(writer: InstanceObservation | undefined, name: string): string | undefined {
  if (writer === undefined || !writer.exists) return `the writer ${name} has no pod`;
  if (writer.podDeleting) return `the writer ${name} is terminating`;
  if (writer.server === undefined) return `the writer ${name} does not answer`;
  if (writer.server.readOnly) return `the writer ${name} is read-only`;
  if (!writer.podReady) return `the writer ${name} is not ready`;
  return undefined;
}

/** Why a reader is not ready and caught up with `primary`, or undefined when it is. */
function readerProblem(reader: InstanceObservation, primary: string, maxLagSeconds: number): string | undefined {
  if (!reader.exists) return `${reader.name} has no pod yet`;
  if (reader.podDeleting) return `${reader.name} is terminating`;
  if (!reader.podReady) return `${reader.name} is not ready`;
  const replica = reader.server?.replica;
  if (reader.server === undefined) return `${reader.name} does not answer`;
  if (replica?.sourceHost !== primary || replica.ioThread !== 'Yes' || !replica.sqlRunning) return `${reader.name} does not replicate from ${primary} yet`;
  if (replica.secondsBehind === undefined || replica.secondsBehind > maxLagSeconds) {
    return `${reader.name} is ${replica.secondsBehind === undefined ? 'an unknown time' : `${replica.secondsBehind}s`} behind (at most ${maxLagSeconds}s)`;
  }
  return undefined;
}

/** The next step of the rolling restart. */
export function planRollout(input: RolloutInput): RolloutStep {
  const { observation, outdated, maxLagSeconds } = input;
  const members = observation.instances.filter((i) => i.index < observation.instanceCount);
  const stale = members.filter((i) => i.exists && outdated.has(i.name));
  const progress: RolloutProgress = { restarted: members.filter((i) => i.exists && !outdated.has(i.name)).length, total: observation.instanceCount };
  const primary = observation.status.currentPrimary;
  const writer = members.find((i) => i.name === primary);
  const problems = new Map<string, string>();
  for (const member of members) {
    const problem = member.name === primary ? writerProblem(member, member.name) : primary === undefined ? undefined : readerProblem(member, primary, maxLagSeconds);
    if (problem !== undefined) problems.set(member.name, problem);
  }
  if (stale.length === 0) return { kind: 'upToDate', settling: [...problems.keys()], progress };

  const wait = (reason: string): RolloutStep => ({ kind: 'wait', reason, progress });
  const operation = observation.status.operation;
  if (operation !== undefined) return wait(`a ${operation.type.toLowerCase()} from ${operation.from} to ${operation.to} is running`);
  if (primary === undefined) return wait('there is no writer yet');

  // A pod missing or terminating is a restart in flight (ours, or someone's): one at a time.
  const inFlight = members.find((i) => !i.exists || i.podDeleting);
  if (inFlight !== undefined) return wait(`${inFlight.name} is ${inFlight.exists ? 'terminating' : 'being created'}`);
  const writerTrouble = writerProblem(writer, primary);
  if (writerTrouble !== undefined) return wait(writerTrouble);

  const readers = members.filter((i) => i.name !== primary);
  const byOrdinalDescending = (a: InstanceObservation, b: InstanceObservation): number => b.index - a.index;
  const current = readers.filter((i) => !outdated.has(i.name));
  const settling = current.find((i) => problems.has(i.name));
  if (settling !== undefined) return wait(`waiting for ${problems.get(settling.name) ?? settling.name}`);

  const downAndStale = readers.filter((i) => outdated.has(i.name) && problems.has(i.name)).sort(byOrdinalDescending)[0];
  if (downAndStale !== undefined) {
    return { kind: 'restart', instance: downAndStale.name, reason: `${downAndStale.name} runs an outdated pod template and is out of service already (${problems.get(downAndStale.name) ?? ''})`, progress };
  }
  const nextReader = readers.filter((i) => outdated.has(i.name)).sort(byOrdinalDescending)[0];
  if (nextReader !== undefined) {
    return { kind: 'restart', instance: nextReader.name, reason: `${nextReader.name} runs an outdated pod template; every other instance is ready and caught up`, progress };
  }

  // Only the writer is left.
  if (writer === undefined || writer.server === undefined) return wait(`the writer ${primary} does not answer`);
  if (readers.length === 0) {
    return { kind: 'restart', instance: primary, reason: `${primary} runs an outdated pod template and is the only instance: it restarts in place, without a writer meanwhile`, progress };
  }
  const reachableWriter = writer as Reachable;
  const candidates: ClusterObservation = { ...observation, instances: observation.instances.filter((i) => i.name === primary || !outdated.has(i.name)) };
  const closeEnough = (i: InstanceObservation): boolean => (i.server?.replica?.secondsBehind ?? Number.POSITIVE_INFINITY) <= switchoverLagLimitSeconds;
  const eligible: ClusterObservation = { ...candidates, instances: candidates.instances.filter((i) => i.name === primary || closeEnough(i)) };
  const target = chooseSwitchoverTarget(eligible, reachableWriter);
  if (target !== undefined) {
    return { kind: 'switchover', from: primary, to: target.name, reason: `rolling restart: the writer ${primary} runs an outdated pod template`, progress };
  }
  const obstacles = readers.map((i) => whyNotPlannedTarget(candidates, i, reachableWriter) ?? (closeEnough(i) ? undefined : `${i.name} is more than ${switchoverLagLimitSeconds}s behind`));
  return wait(`the writer ${primary} runs an outdated pod template, but no reader can take over yet: ${obstacles.filter((o) => o !== undefined).join('; ')}`);
}
