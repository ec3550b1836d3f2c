// Which pods the writer and reader Services reach, as the role labels the
// operator sets on them. Pure. The writer label follows status.currentPrimary,
// except while a switchover or failover runs: then its moveWriter step alone
// moves it, so this never undoes a half-done move. The reader Service gets the
// healthy replicas within the lag limit, and the writer when there are none.
import type { ClusterObservation, InstanceObservation } from '../../../replication/observations.ts';
import { labelKeys, type Labels } from './builders/labels.ts';

export interface PodLabelPlan {
  /** 'writer' | 'reader'; undefined: leave the role label as it is (an operation owns it now). */
  readonly role: 'writer' | 'reader' | undefined;
  readonly servesReads: boolean;
}

/** Whether a replica of `primary` is fit to serve reads: replicating, both threads running, within `maxLagSeconds`. */
export function readsFromReplica(instance: InstanceObservation, primary: string, maxLagSeconds: number): boolean {
  const replica = instance.server?.replica;
  if (!instance.exists || instance.podDeleting || !instance.podReady || replica === undefined) return false;
  if (replica.sourceHost !== primary || replica.ioThread !== 'Yes' || !replica.sqlRunning) return false;
  return replica.secondsBehind !== undefined && replica.secondsBehind <= maxLagSeconds;
}

/** The label plan of every existing pod, by pod name. `quarantined` instances never serve. */
export function labelPlan(observation: ClusterObservation, maxLagSeconds: number, quarantined: ReadonlySet<string>): Map<string, PodLabelPlan> {
  const plan = new Map<string, PodLabelPlan>();
  const primary = observation.status.currentPrimary;
  const moving = observation.status.operation !== undefined;
  const readers = primary === undefined ? [] : observation.instances.filter((i) => i.name !== primary && !quarantined.has(i.name) && readsFromReplica(i, primary, maxLagSeconds));
  const primaryInstance = observation.instances.find((i) => i.name === primary);
  const writerServesReads = readers.length === 0 && primaryInstance?.server !== undefined && primaryInstance.podReady && !moving;
  for (const instance of observation.instances) {
    if (!instance.exists) continue;
    const isPrimary = instance.name === primary;
    plan.set(instance.name, {
      role: moving || primary === undefined ? undefined : isPrimary ? 'writer' : 'reader',
      servesReads: isPrimary ? writerServesReads : readers.includes(instance),
    });
  }
  return plan;
}

/** The labels the operator owns on a pod under `plan`, given its role label now (kept when the plan leaves it). */
export function ownedLabels(plan: PodLabelPlan, currentRole: string | undefined): Labels {
  const role = plan.role ?? currentRole;
  return {
    ...(role === undefined ? {} : { [labelKeys.role]: role }),
    ...(plan.servesReads ? { [labelKeys.servesReads]: 'true' } : {}),
  };
}
