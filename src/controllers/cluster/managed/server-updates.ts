// Bringing the running servers of a managed cluster in line with its spec,
// after the replication decision has acted (a phase of reconcile.ts):
// - live settings: the user's options MariaDB changes at run time are set on
//   every answering instance where they differ (apply-live-settings.ts); a
//   refusal is reported per instance and holds up nothing else;
// - rolling restart: pods whose template is outdated (restart checksum, see
//   statefulset.ts) are restarted one step at a time as planRollout
//   (src/replication/rollout.ts) says — a reader's pod deleted, or the writer
//   switched over first — and only while replication is steady: a decision
//   that had work to do (a reader to configure after its restart, a failover)
//   always goes first.
import type { Condition } from '../../../api/common.ts';
import type { MySQLCluster } from '../../../api/mysqlcluster.ts';
import type { ManagedServers } from '../../../api/normalize.ts';
import type { ConditionUpdate } from '../../../runtime/conditions.ts';
import type { Decision, SwitchoverDecision } from '../../../replication/decide.ts';
import type { ClusterObservation } from '../../../replication/observations.ts';
import { planRollout, type RolloutStep } from '../../../replication/rollout.ts';
import type { ControllerContext } from '../../context.ts';
import type { LiveSettingsApplier } from './apply-live-settings.ts';
import { managedClusterObjects } from './builders/all.ts';
import { serverConfig } from './builders/config.ts';
import type { ClusterOwner } from './builders/owner.ts';
import type { ClusterPasswords } from './builders/secrets.ts';
import { restartChecksumAnnotation } from './builders/statefulset.ts';
import type { PodObject } from './pods.ts';
import type { ActOutcome } from './replication/act.ts';
import type { InstanceAccess } from './replication/instance-access.ts';

/** The condition type that tells a rolling restart's progress. */
export const rollingRestartConditionType = 'RollingRestart';

/** What the StatefulSet's pod template says a pod must carry in restartChecksumAnnotation; a pod with another value is due a restart. */
export function desiredRestartChecksum(owner: ClusterOwner, managed: ManagedServers, passwords: ClusterPasswords): string {
  const annotations = managedClusterObjects({ owner, managed, passwords, nodeCount: 0 }).statefulSet.spec.template.metadata.annotations;
  const checksum = annotations[restartChecksumAnnotation];
  if (checksum === undefined) throw new Error(`the StatefulSet builder set no ${restartChecksumAnnotation} annotation`);
  return checksum;
}

/** Pods whose template is outdated: another restart checksum than `desired`, or none (made before it existed). */
export function outdatedPods(pods: readonly PodObject[], desired: string): Set<string> {
  return new Set(pods.filter((p) => p.metadata.annotations?.[restartChecksumAnnotation] !== desired).map((p) => p.metadata.name));
}

export interface ServerUpdateInput {
  readonly context: ControllerContext;
  readonly cluster: MySQLCluster;
  /** namespace/name, the key the applier remembers instances under. */
  readonly key: string;
  readonly managed: ManagedServers;
  readonly access: InstanceAccess;
  readonly pods: () => readonly PodObject[];
  readonly applier: LiveSettingsApplier;
  /** The observation the decision was made on, and the decision and its outcome. */
  readonly observation: ClusterObservation;
  readonly decision: Decision;
  readonly outcome: ActOutcome;
  readonly desiredChecksum: string;
  /** Runs a switchover as act() does (its steps persisted in status). */
  readonly switchover: (decision: SwitchoverDecision) => Promise<ActOutcome>;
  readonly signal: AbortSignal;
}

export interface ServerUpdateResult {
  /** The outcome of a switchover started for the roll; undefined when none was. */
  readonly outcome?: ActOutcome;
  /** Whether something changed that a fresh observation should see (a pod deleted, a writer moved). */
  readonly changed: boolean;
}

/** Live settings on every answering instance, then the next step of a rolling restart if replication is steady. */
export async function updateServers(input: ServerUpdateInput): Promise<ServerUpdateResult> {
  await applyLiveSettings(input);
  if (input.decision.kind !== 'steady' || input.outcome.kind !== 'steady') return { changed: false };
  const step = planRollout({
    observation: input.observation,
    outdated: outdatedPods(input.pods(), input.desiredChecksum),
    maxLagSeconds: input.managed.replication.maxReaderLagSeconds,
  });
  const { context, cluster } = input;
  switch (step.kind) {
    case 'upToDate':
    case 'wait':
      return { changed: false };
    case 'restart': {
      const namespace = cluster.metadata.namespace ?? 'default';
      input.signal.throwIfAborted();
      const message = `restarting ${step.instance} (${step.progress.restarted} of ${step.progress.total} restarted): ${step.reason}`;
      context.logger.info({ cluster: input.key, instance: step.instance }, message);
      await context.kube.delete({ apiVersion: 'v1', kind: 'Pod', namespace, name: step.instance });
      context.events.record(cluster, 'Normal', 'RestartingInstance', message);
      return { changed: true };
    }
    case 'switchover': {
      context.events.record(cluster, 'Normal', 'RollingRestartSwitchover', `switching the writer over from ${step.from} to ${step.to} before restarting it: ${step.reason}`);
      const outcome = await input.switchover({ kind: 'switchover', from: step.from, to: step.to, reason: step.reason });
      return { outcome, changed: true };
    }
  }
}

async function applyLiveSettings(input: ServerUpdateInput): Promise<void> {
  const { context, cluster, key } = input;
  const live = serverConfig(input.managed).live;
  const pods = input.pods();
  const targets = input.observation.instances
    .filter((i) => i.exists && i.server !== undefined && !i.podDeleting)
    .flatMap((i) => {
      const pod = pods.find((p) => p.metadata.name === i.name);
      return pod === undefined ? [] : [{ instance: i.name, pod }];
    });
  const results = await input.applier.apply(key, input.access, targets, live, context.now().getTime(), input.signal);
  for (const [instance, result] of results) {
    if (result.changed.length > 0) {
      context.events.record(cluster, 'Normal', 'SettingsApplied', `${instance}: set ${result.changed.join(', ')} live, without a restart`);
    }
    if (result.error !== undefined) {
      context.events.record(cluster, 'Warning', 'SettingNotApplied', `${instance}: ${result.error}`);
      context.logger.warn({ cluster: key, instance, error: result.error }, 'a live setting could not be applied');
    }
  }
}

/**
 * The RollingRestart condition: True while outdated pods remain (or a pod
 * just restarted is still settling after a roll), with "n of N restarted"
 * and the next step or what it waits for; False (UpToDate) otherwise.
 */
export function rollingRestartCondition(step: RolloutStep, previous: readonly Condition[] | undefined): ConditionUpdate {
  const progress = `${step.progress.restarted} of ${step.progress.total} restarted`;
  const wasRolling = previous?.find((c) => c.type === rollingRestartConditionType)?.status === 'True';
  switch (step.kind) {
    case 'upToDate':
      if (wasRolling && step.settling.length > 0) {
        return { type: rollingRestartConditionType, status: 'True', reason: 'Settling', message: `${progress}; waiting for ${step.settling.join(', ')} to be ready and caught up` };
      }
      return { type: rollingRestartConditionType, status: 'False', reason: 'UpToDate', message: `all ${step.progress.total} instances run the current pod template` };
    case 'restart':
      return { type: rollingRestartConditionType, status: 'True', reason: 'Restarting', message: `${progress}; next: ${step.instance}` };
    case 'switchover':
      return { type: rollingRestartConditionType, status: 'True', reason: 'SwitchingOver', message: `${progress}; the writer moves from ${step.from} to ${step.to} before it restarts` };
    case 'wait':
      return { type: rollingRestartConditionType, status: 'True', reason: 'Waiting', message: `${progress}; ${step.reason}` };
  }
}

/** The RollingRestart condition for the cluster as observed now (after this pass acted). */
export function rollingRestartStatus(observation: ClusterObservation, pods: readonly PodObject[], desiredChecksum: string, maxLagSeconds: number, previous: readonly Condition[] | undefined): ConditionUpdate {
  return rollingRestartCondition(planRollout({ observation, outdated: outdatedPods(pods, desiredChecksum), maxLagSeconds }), previous);
}

/** An instance's status with the error of its live settings, if they failed. */
export function withSettingsError<T extends object>(status: T, error: string | undefined): T & { settingsError?: string } {
  return error === undefined ? status : { ...status, settingsError: error };
}
