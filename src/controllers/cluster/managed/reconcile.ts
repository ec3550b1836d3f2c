// The MySQLCluster reconciler, managed mode: the operator runs MariaDB as a
// StatefulSet and keeps one writer. Phases, in order:
//   1. credentials  (the generated Secret; a Secret that lost a key stops here: CredentialsInvalid)
//   2. children     (Secret, ConfigMap, Services, PodDisruptionBudgets, StatefulSet by server-side apply, when changed;
//                    the StatefulSet keeps the writer's ordinal while scaling down, scale.ts; volumes grown to spec.size, storage-growth.ts)
//   3. observe      (pods and nodes from the caches, each instance over SQL)
//   4. decide + act (src/replication decide(); act(): writer, replicas, fence, switchover/failover steps persisted in status)
//   4b. servers     (live settings by SET GLOBAL; the next step of a rolling restart while replication is steady: server-updates.ts)
//   5. routing      (role labels: the writer Service selects the writer, the reader Service healthy readers)
//   6. status       (writer, instances, endpoints, conditions Ready and Replicating)
// It runs again every second: the writer's health is watched by polling, and
// failoverAfterSeconds is counted between these passes.
import { randomBytes } from 'node:crypto';
import type { MySQLCluster } from '../../../api/mysqlcluster.ts';
import type { ManagedServers } from '../../../api/normalize.ts';
import type { ReconcileOutcome } from '../../../runtime/controller.ts';
import { decide, type Decision } from '../../../replication/decide.ts';
import { operationCause } from '../../../replication/operation-cause.ts';
import { OperationRecordError } from '../../../replication/operation-record.ts';
import type { ClusterObservation } from '../../../replication/observations.ts';
import { keyOf, type ControllerContext, type NodeObject, type SecretObject } from '../../context.ts';
import { writeStatus, type Readiness } from '../../status.ts';
import { managedClusterObjects } from './builders/all.ts';
import { semiSyncSettings, writerWaitsForReaders } from './builders/config.ts';
import { labelKeys } from './builders/labels.ts';
import { bootstrapFailure } from './bootstrap-status.ts';
import { claimName, clusterNames, podName, serviceDnsName, systemAccounts, type ClusterNames } from './builders/names.ts';
import { credentialsSecret, passwordsFromSecret, type ClusterPasswords } from './builders/secrets.ts';
import type { VolumeClaimTemplate } from './builders/statefulset.ts';
import { applyInOrder, inputsFingerprint } from './children.ts';
import { ClusterView } from './cluster-view.ts';
import { statefulSetReplicas } from './scale.ts';
import { nodeIsLeaving, type PodObject } from './pods.ts';
import { act, type ActDependencies, type ActOutcome } from './replication/act.ts';
import type { ReplicationSettings } from './replication/instance-access.ts';
import { SqlStepExecutor } from './replication/step-executor.ts';
import { PodSeeding } from './pod-seeding.ts';
import { labelPlan, ownedLabels } from './routing.ts';
import type { ManagedClusterState } from './state.ts';
import { instanceStatus, readiness, replicating, type ConditionOutcome } from './status.ts';
import { nextHealthCheckMs } from './health-check.ts';
import { growStorage, storageConditionType } from './storage-growth.ts';
import { StatusRecorder } from './status-recorder.ts';
import { desiredRestartChecksum, rollingRestartStatus, updateServers, withSettingsError } from './server-updates.ts';

/** How often a managed cluster is looked at when nothing happens: the writer's health is polled. */
export const healthCheckIntervalMs = 1000;
/** GTID positions and lag change with every write; they are written to status at most this often. */
const volatileStatusIntervalMs = 15_000;

function generatePasswords(): ClusterPasswords {
  const password = (): string => randomBytes(24).toString('base64url');
  return { root: password(), replication: password(), operator: password(), manager: password() };
}

function replicationSettings(managed: ManagedServers, passwords: ClusterPasswords): ReplicationSettings {
  const semiSync = semiSyncSettings(managed.replication);
  return {
    semiSync: writerWaitsForReaders(managed),
    semiSyncTimeoutMs: semiSync.timeoutMs,
    semiSyncWaitNoReplica: semiSync.waitNoSlave,
    replicationUser: systemAccounts.replication.user,
    replicationPassword: passwords.replication,
    sparedUsers: [systemAccounts.operator.user, systemAccounts.replication.user],
  };
}

/** Nodes an instance could run on now: not cordoned, and matching spec.nodeSelector. */
function schedulableNodes(nodes: readonly NodeObject[], managed: ManagedServers): number {
  const selector = managed.scheduling.nodeSelector ?? {};
  return nodes.filter((n) => !nodeIsLeaving(n) && Object.entries(selector).every(([k, v]) => n.metadata.labels?.[k] === v)).length;
}

export async function reconcileManagedCluster(
  context: ControllerContext,
  cluster: MySQLCluster,
  managed: ManagedServers,
  state: ManagedClusterState,
): Promise<ReconcileOutcome> {
  const signal = context.signal;
  const namespace = cluster.metadata.namespace ?? 'default';
  const name = cluster.metadata.name;
  const key = keyOf(cluster);
  const names = clusterNames(name, managed);
  const endpoints = {
    writerEndpoint: `${serviceDnsName(names.writerService, namespace)}:${managed.servicePort}`,
    readerEndpoint: `${serviceDnsName(names.readerService, namespace)}:${managed.servicePort}`,
  };
  const baseFields = { mode: 'Managed', instances: managed.instances, ...endpoints };

  // 1. credentials
  const secret = context.caches.secrets.get(namespace, names.credentialsSecret);
  let passwords = passwordsFromSecret(secret?.data);
  if (passwords === undefined) {
    if (secret !== undefined) {
      await writeStatus(context, cluster, { ...cluster.status, ...baseFields }, {
        ready: false,
        reason: 'CredentialsInvalid',
        message: `Secret ${namespace}/${names.credentialsSecret} lacks a password key; the instances keep the accounts they were created with, so restore the Secret rather than delete it`,
      });
      return { requeueAfterMs: 30_000 };
    }
    passwords = await createCredentials(context, cluster, names);
  } else if (secret !== undefined && cluster.status?.observedGeneration === undefined && createdBefore(secret, cluster)) {
    // A cluster re-created with the name of a deleted one: its Secret was kept with its volumes (builders/secrets.ts).
    context.events.record(
      cluster,
      'Normal',
      'CredentialsAdopted',
      `Secret ${namespace}/${names.credentialsSecret}, kept from an earlier MySQLCluster of this name, is used as it is: volumes kept from that cluster were initialised with its passwords`,
    );
  }

  // 2. children
  const childrenApplied = await applyChildren(context, cluster, managed, names, passwords, state);
  await checkStorage(context, key, managed, names, state, childrenApplied);

  // 3. observe
  const recorder = new StatusRecorder(context, cluster, (ended, durationMs) => {
    const { operation } = ended;
    const what = operation.type === 'Failover' ? 'failover' : 'switchover';
    const message =
      ended.kind === 'complete' && ended.outcome === 'succeeded'
        ? `${what} from ${operation.from} to ${ended.primary} done in ${(durationMs / 1000).toFixed(1)} s: ${operation.reason}`
        : `${what} from ${operation.from} ended with ${ended.primary} as writer: ${ended.kind === 'abandon' ? ended.reason : 'rolled back'}`;
    context.events.record(cluster, ended.kind === 'complete' && ended.outcome === 'succeeded' ? 'Normal' : 'Warning', operation.type === 'Failover' ? 'FailedOver' : 'SwitchedOver', message);
    context.logger.info({ cluster: key, type: operation.type, from: operation.from, to: ended.primary, durationMs }, message);
    state.metrics.observeWriterChange(namespace, name, {
      type: operation.type,
      reason: operationCause(operation),
      result: ended.kind === 'abandon' ? 'abandoned' : ended.outcome,
      seconds: durationMs / 1000,
    });
  });
  const pods = (): PodObject[] => context.caches.pods.list(namespace).filter((p) => p.metadata.labels?.[labelKeys.cluster] === name);
  const view = new ClusterView({
    namespace,
    cluster: name,
    managed,
    operatorPassword: passwords.operator,
    pods,
    pod: (podName) => {
      const pod = context.caches.pods.get(namespace, podName);
      return pod?.metadata.labels?.[labelKeys.cluster] === name ? pod : undefined;
    },
    node: (nodeName) => context.caches.nodes.get(undefined, nodeName),
    clients: state.clients,
    kube: context.kube,
    recorded: () => recorder.recorded(),
    unreachableSince: (primary, reachable, nowMs) => state.unreachableSince(key, primary, reachable, nowMs),
    now: context.now,
  });
  let observation: ClusterObservation;
  try {
    observation = await view.observe(signal);
  } catch (error) {
    if (!(error instanceof OperationRecordError)) throw error;
    await writeStatus(context, cluster, { ...recorder.status, ...baseFields }, { ready: false, reason: 'OperationRecordInvalid', message: error.message });
    return { requeueAfterMs: 30_000 };
  }

  // 4. decide + act
  const decision = decide(observation);
  const settings = replicationSettings(managed, passwords);
  const actDependencies: ActDependencies = {
    access: view,
    routing: view,
    settings,
    recorder,
    executor: new SqlStepExecutor(view, view, settings),
    seeding: new PodSeeding({ namespace, pods, kube: context.kube, secret: passwords.replication }),
    now: context.now,
    onStep: (operation) => {
      context.logger.info({ cluster: key, type: operation.type, from: operation.from, to: operation.to, step: operation.step, attempt: operation.attempt }, 'replication step');
    },
  };
  let outcome = await act(decision, actDependencies, signal);
  reportDecision(context, cluster, decision, outcome);

  // 4b. servers: live settings, and a rolling restart's next step when the decision had nothing to do
  const desiredChecksum = desiredRestartChecksum({ name, namespace, uid: cluster.metadata.uid ?? '' }, managed, passwords);
  const serverUpdate = await updateServers({
    context,
    cluster,
    key,
    managed,
    access: view,
    pods,
    applier: state.liveSettings,
    observation,
    decision,
    outcome,
    desiredChecksum,
    switchover: (switchover) => act(switchover, actDependencies, signal),
    signal,
  });
  if (serverUpdate.outcome !== undefined) outcome = serverUpdate.outcome;

  // 5. routing: from a fresh look when the decision changed something, so labels and status say what is, not what was.
  const changed = serverUpdate.changed || outcome.kind === 'acted' || (outcome.kind === 'operation' && outcome.outcome.kind !== 'retry');
  const current = changed ? await view.observe(signal) : { ...observation, status: recorder.recorded() };
  const recordedNow = current.status;
  const problems = problemsOf(outcome);
  const plan = labelPlan(current, managed.replication.maxReaderLagSeconds, new Set(problems.keys()));
  for (const pod of pods()) {
    const wanted = plan.get(pod.metadata.name);
    if (wanted === undefined) continue;
    const labels = ownedLabels(wanted, pod.metadata.labels?.[labelKeys.role]);
    const now = { role: pod.metadata.labels?.[labelKeys.role], servesReads: pod.metadata.labels?.[labelKeys.servesReads] === 'true' };
    const next = { role: labels[labelKeys.role], servesReads: labels[labelKeys.servesReads] === 'true' };
    if (now.role !== next.role || now.servesReads !== next.servesReads) await view.setLabels(pod, next);
  }

  // 6. status
  const statuses = current.instances
    .filter((i) => i.exists || i.index < current.instanceCount)
    .map((i) => instanceStatus(i, recordedNow.currentPrimary, managed.replication.maxReaderLagSeconds, problems.get(i.name)))
    .map((s) => withSettingsError(s, state.liveSettings.lastError(key, s.name)));
  const readyInstances = statuses.filter((s) => s.ready === true).length;
  state.metrics.setWriter(namespace, name, recordedNow.currentPrimary);
  state.metrics.setReplicationLag(namespace, name, replicationLags(statuses, recordedNow.currentPrimary));
  const ready: Readiness =
    bootstrapFailure(managed, recordedNow.currentPrimary, pods().find((p) => p.metadata.name === podName(name, 0))) ??
    readiness(current, outcome, readyInstances, managed.replication.allowAsyncFallback);
  const replicationCondition = replicating(current, statuses);
  const nowMs = context.now().getTime();
  const volatileDue = state.volatileDue(key, nowMs, volatileStatusIntervalMs);
  const fields = { ...recorder.status, ...baseFields, readyInstances, instanceStatuses: steadyVolatile(statuses, recorder.status.instanceStatuses, volatileDue) };
  await writeStatus(context, { ...cluster, status: recorder.status }, fields, ready, [
    { type: 'Replicating', status: replicationCondition.ready ? 'True' : 'False', reason: replicationCondition.reason, message: replicationCondition.message },
    rollingRestartStatus(current, pods(), desiredChecksum, managed.replication.maxReaderLagSeconds, cluster.status?.conditions),
    ...conditionUpdate(storageConditionType, state.storageCondition(key)),
  ]);
  if (volatileDue) state.volatileWritten(key, nowMs);

  if (outcome.kind === 'operation' && outcome.outcome.kind === 'retry') return { requeueAfterMs: Math.min(healthCheckIntervalMs, 250 * (1 + outcome.outcome.operation.attempt)) };
  return { requeueAfterMs: nextHealthCheckMs(observation, healthCheckIntervalMs) };
}

/** The lag of each reader that reports one, for the metrics (the writer's own, if any, is left out). */
function replicationLags(statuses: readonly { name: string; replicationLagSeconds?: number }[], primary: string | undefined): Map<string, number> {
  const lags = new Map<string, number>();
  for (const s of statuses) if (s.name !== primary && s.replicationLagSeconds !== undefined) lags.set(s.name, s.replicationLagSeconds);
  return lags;
}

function conditionUpdate(type: string, outcome: ConditionOutcome | undefined): { type: string; status: 'True' | 'False'; reason: string; message: string }[] {
  return outcome === undefined ? [] : [{ type, status: outcome.ready ? 'True' : 'False', reason: outcome.reason, message: outcome.message }];
}

/**
 * Grows the instances' volumes to spec.size where their StorageClass allows
 * it (storage-growth.ts), when due. A failure is reported in the condition and
 * logged, never thrown: volumes must not hold up the writer's health checks.
 */
async function checkStorage(context: ControllerContext, key: string, managed: ManagedServers, names: ClusterNames, state: ManagedClusterState, childrenApplied: boolean): Promise<void> {
  const nowMs = context.now().getTime();
  if (!state.storageDue(key, nowMs, childrenApplied)) return;
  const namespace = key.slice(0, key.indexOf('/'));
  const claims = Array.from({ length: managed.instances }, (_, index) => claimName(names, index));
  try {
    state.storageChecked(key, await growStorage(context.kube, namespace, claims, managed.storageSize), nowMs);
  } catch (error) {
    context.signal.throwIfAborted();
    const message = error instanceof Error ? error.message : String(error);
    context.logger.warn({ cluster: key, err: error }, 'growing the volumes failed');
    state.storageChecked(key, { condition: { ready: false, reason: 'ResizeFailed', message }, settled: false }, nowMs);
  }
}

/** Reasons instances are kept out of service, by pod name. */
function problemsOf(outcome: ActOutcome): Map<string, string> {
  const problems = new Map<string, string>();
  if (outcome.kind === 'needsRebuild' || outcome.kind === 'quarantined') problems.set(outcome.instance, outcome.reason);
  return problems;
}

/**
 * Per-instance status with GTID positions and lag kept as last written unless
 * `due`: they change with every write, and a status write per second per
 * cluster would load the API server for nothing. Anything else that changes
 * (role, readiness, threads, errors) is written at once.
 */
function steadyVolatile<T extends { name: string; gtidPosition?: string; replicationLagSeconds?: number }>(fresh: readonly T[], written: readonly T[] | undefined, due: boolean): T[] {
  if (due || written === undefined) return [...fresh];
  return fresh.map((s) => {
    const old = written.find((w) => w.name === s.name);
    if (old === undefined) return s;
    const kept: T = { ...s };
    delete kept.gtidPosition;
    delete kept.replicationLagSeconds;
    if (old.gtidPosition !== undefined) kept.gtidPosition = old.gtidPosition;
    if (old.replicationLagSeconds !== undefined) kept.replicationLagSeconds = old.replicationLagSeconds;
    return kept;
  });
}

const rebuildEventReason = { seed: 'ReplicaSeeding', discard: 'ReplicaRebuilding', replay: 'ReplicasConfigured', report: 'ReplicaNeedsRebuild' } as const;

/** Events for what a user should see in `kubectl describe`: a first writer, fencing, replicas that need a person. */
function reportDecision(context: ControllerContext, cluster: MySQLCluster, decision: Decision, outcome: ActOutcome): void {
  if (outcome.kind === 'acted') {
    const type = outcome.problems.length === 0 ? 'Normal' : 'Warning';
    const reason = decision.kind === 'bootstrap' ? 'WriterElected' : decision.kind === 'fence' ? 'Fenced' : decision.kind === 'configurePrimary' ? 'WriterConfigured' : decision.kind === 'rebuild' ? rebuildEventReason[decision.step] : 'ReplicasConfigured';
    const problems = outcome.problems.length === 0 ? '' : ` (failed: ${outcome.problems.join('; ')})`;
    context.events.record(cluster, type, reason, `${outcome.summary}${problems}`);
  } else if (outcome.kind === 'needsRebuild') {
    context.events.record(cluster, 'Warning', 'ReplicaNeedsRebuild', `${outcome.instance}: ${outcome.reason}`);
  } else if (outcome.kind === 'quarantined') {
    context.events.record(cluster, 'Warning', 'ReplicaQuarantined', `${outcome.instance}: ${outcome.reason}`);
  }
}

/**
 * Generates the passwords and creates the credentials Secret with them — a
 * create, never an apply: should the cache be behind, another reconcile's
 * Secret must not be overwritten with new passwords, or the instances it
 * initialised would lock the operator out. When the Secret exists already,
 * its passwords are read from the API server.
 */
async function createCredentials(context: ControllerContext, cluster: MySQLCluster, names: ClusterNames): Promise<ClusterPasswords> {
  const namespace = cluster.metadata.namespace ?? 'default';
  const generated = generatePasswords();
  const secret = credentialsSecret({ name: cluster.metadata.name, namespace, uid: cluster.metadata.uid ?? '' }, names.credentialsSecret, generated);
  if ((await context.kube.create(secret)) !== undefined) return generated;
  const existing = await context.kube.get<SecretObject>({ apiVersion: 'v1', kind: 'Secret', namespace, name: names.credentialsSecret });
  const passwords = passwordsFromSecret(existing?.data);
  if (passwords === undefined) throw new Error(`Secret ${namespace}/${names.credentialsSecret} exists but lacks a password key`);
  return passwords;
}

/** Whether `object` was created before `cluster` (RFC 3339 times in whole seconds: the same second counts as not before). */
function createdBefore(object: SecretObject, cluster: MySQLCluster): boolean {
  const created = Date.parse(object.metadata.creationTimestamp ?? '');
  const clusterCreated = Date.parse(cluster.metadata.creationTimestamp ?? '');
  return Number.isFinite(created) && Number.isFinite(clusterCreated) && created < clusterCreated;
}

/** Applies the cluster's objects when they changed (or the resync interval passed). */
async function applyChildren(
  context: ControllerContext,
  cluster: MySQLCluster,
  managed: ManagedServers,
  names: ClusterNames,
  passwords: ClusterPasswords,
  state: ManagedClusterState,
): Promise<boolean> {
  const namespace = cluster.metadata.namespace ?? 'default';
  const uid = cluster.metadata.uid;
  if (uid === undefined) throw new Error(`MySQLCluster ${keyOf(cluster)} has no uid; it cannot own its objects`);
  const owner = { name: cluster.metadata.name, namespace, uid };
  const nodeCount = schedulableNodes(context.caches.nodes.list(), managed);
  const scale = statefulSetReplicas({
    cluster: cluster.metadata.name,
    desiredInstances: managed.instances,
    currentPrimary: cluster.status?.currentPrimary,
    operation: cluster.status?.operation,
  });
  const build = (existingClaimTemplate?: VolumeClaimTemplate) =>
    managedClusterObjects({
      owner,
      managed,
      passwords,
      nodeCount,
      replicas: scale.replicas,
      ...(existingClaimTemplate === undefined ? {} : { existingClaimTemplate }),
    });
  const key = keyOf(cluster);
  const nowMs = context.now().getTime();
  const fingerprint = inputsFingerprint({ uid, generation: cluster.metadata.generation, passwords, nodeCount, replicas: scale.replicas });
  if (!state.children.needed(key, fingerprint, nowMs, context.resyncIntervalMs)) return false;
  // The claim template of an existing StatefulSet cannot change; keep it (a larger size is applied to the PVCs).
  const existing = await context.kube.get<{ metadata: { name: string }; spec?: { volumeClaimTemplates?: VolumeClaimTemplate[] } }>({
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    namespace,
    name: names.statefulSet,
  });
  const template = existing?.spec?.volumeClaimTemplates?.[0];
  const objects = build(template);
  if (scale.heldBy !== undefined) context.logger.info({ cluster: key, replicas: scale.replicas }, scale.heldBy);
  await applyInOrder(context.kube, objects.inApplyOrder);
  state.children.remember(key, fingerprint, nowMs);
  return true;
}
