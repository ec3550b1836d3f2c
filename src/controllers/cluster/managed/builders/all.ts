// Every object of a managed cluster from one intent, in the order they are
// best applied: the Secret and the ConfigMap the pods mount first, the
// Services and budgets, the StatefulSet last. A convenience over the
// individual builders, which remain the reference.
import type { ManagedServers } from '../../../../api/normalize.ts';
import { configMap, serverConfig, type ConfigMapManifest, type ServerConfig } from './config.ts';
import { clusterNames, type ClusterNames } from './names.ts';
import type { ClusterOwner } from './owner.ts';
import { disruptionBudgets, type PodDisruptionBudgetManifest } from './pdb.ts';
import { credentialsSecret, type ClusterPasswords, type SecretManifest } from './secrets.ts';
import { instancesService, readerService, writerService, type ServiceManifest } from './services.ts';
import { statefulSet, type StatefulSetManifest, type VolumeClaimTemplate } from './statefulset.ts';

export interface ManagedClusterInput {
  readonly owner: ClusterOwner;
  readonly managed: ManagedServers;
  readonly passwords: ClusterPasswords;
  /** See StatefulSetInput.nodeCount. */
  readonly nodeCount: number;
  /** See StatefulSetInput.existingClaimTemplate. */
  readonly existingClaimTemplate?: VolumeClaimTemplate;
  /** See StatefulSetInput.replicas. */
  readonly replicas?: number;
}

export interface ManagedClusterObjects {
  readonly names: ClusterNames;
  /** The configuration, with the user's live options and refusals for the reconciler. */
  readonly config: ServerConfig;
  readonly secret: SecretManifest;
  readonly configMap: ConfigMapManifest;
  readonly services: readonly ServiceManifest[];
  /** Empty for a single instance. When it becomes empty, the reconciler deletes the budgets that exist. */
  readonly disruptionBudgets: readonly PodDisruptionBudgetManifest[];
  readonly statefulSet: StatefulSetManifest;
  /** All of the above in apply order. */
  readonly inApplyOrder: readonly (SecretManifest | ConfigMapManifest | ServiceManifest | PodDisruptionBudgetManifest | StatefulSetManifest)[];
}

export function managedClusterObjects(input: ManagedClusterInput): ManagedClusterObjects {
  const { owner, managed } = input;
  const names = clusterNames(owner.name, managed);
  const config = serverConfig(managed);
  const secret = credentialsSecret(owner, names.credentialsSecret, input.passwords);
  const cnf = configMap(owner, names.configMap, config);
  const services = [instancesService(owner, names), writerService(owner, names, managed.servicePort), readerService(owner, names, managed.servicePort)];
  const budgets = disruptionBudgets(owner, names, managed.instances);
  const sts = statefulSet({
    owner,
    names,
    managed,
    config,
    nodeCount: input.nodeCount,
    ...(input.existingClaimTemplate === undefined ? {} : { existingClaimTemplate: input.existingClaimTemplate }),
    ...(input.replicas === undefined ? {} : { replicas: input.replicas }),
  });
  return {
    names,
    config,
    secret,
    configMap: cnf,
    services,
    disruptionBudgets: budgets,
    statefulSet: sts,
    inApplyOrder: [secret, cnf, ...services, ...budgets, sts],
  };
}
