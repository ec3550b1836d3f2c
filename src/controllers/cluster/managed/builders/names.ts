// The names of everything a managed cluster creates, in one place: the
// reconciler, the builders and the tests derive them from here.
import type { ManagedServers } from '../../../../api/normalize.ts';

export interface ClusterNames {
  /** The StatefulSet, and so the prefix of its pods: `<cluster>-<ordinal>`. */
  readonly statefulSet: string;
  /** Headless Service that gives each pod a DNS name, ready or not. */
  readonly instancesService: string;
  /** The Service applications write through: spec.service.name, the cluster name by default. */
  readonly writerService: string;
  /** The Service for reads: healthy readers within the lag limit (the writer when there are none). */
  readonly readerService: string;
  readonly writerDisruptionBudget: string;
  readonly readerDisruptionBudget: string;
  /** Server configuration (my.cnf). */
  readonly configMap: string;
  /** Generated passwords of root and the operator's, manager and replication accounts, and their hashes. */
  readonly credentialsSecret: string;
}

export function clusterNames(cluster: string, managed: Pick<ManagedServers, 'serviceName'>): ClusterNames {
  return {
    statefulSet: cluster,
    instancesService: `${cluster}-instances`,
    writerService: managed.serviceName,
    readerService: `${cluster}-readers`,
    writerDisruptionBudget: `${cluster}-writer`,
    readerDisruptionBudget: `${cluster}-readers`,
    configMap: `${cluster}-config`,
    credentialsSecret: `${cluster}-credentials`,
  };
}

/** The StatefulSet's volume claim template: each instance's data directory. */
export const dataVolumeName = 'data';

/** The PersistentVolumeClaim of the instance with this ordinal, as the StatefulSet names it (`<template>-<statefulset>-<ordinal>`). */
export function claimName(names: Pick<ClusterNames, 'statefulSet'>, index: number): string {
  return `${dataVolumeName}-${names.statefulSet}-${index}`;
}

/** The name of the pod with this ordinal, as the StatefulSet names it. */
export function podName(cluster: string, index: number): string {
  return `${cluster}-${index}`;
}

/** The ordinal of one of the cluster's pods, or undefined for a pod that is not one of them. */
export function podIndex(cluster: string, pod: string): number | undefined {
  const prefix = `${cluster}-`;
  if (!pod.startsWith(prefix)) return undefined;
  const ordinal = pod.slice(prefix.length);
  return /^(0|[1-9][0-9]{0,3})$/.test(ordinal) ? Number(ordinal) : undefined;
}

/** The DNS name that reaches one pod through the headless Service, also while it is not ready. */
export function podDnsName(cluster: string, pod: string, namespace: string): string {
  return `${pod}.${cluster}-instances.${namespace}.svc.cluster.local`;
}

/** The DNS name of a Service of the cluster. */
export function serviceDnsName(service: string, namespace: string): string {
  return `${service}.${namespace}.svc.cluster.local`;
}

/** Keys of the credentials Secret. Each password has its mysql_native_password hash beside it. */
export const credentialKeys = {
  rootPassword: 'root-password',
  rootPasswordHash: 'root-password-hash',
  replicationPassword: 'replication-password',
  replicationPasswordHash: 'replication-password-hash',
  operatorPassword: 'operator-password',
  operatorPasswordHash: 'operator-password-hash',
  managerPassword: 'manager-password',
  managerPasswordHash: 'manager-password-hash',
  /** The SQL that creates the operator's, manager and replication accounts on a new data directory (hashes only; see bootstrap-accounts.ts). */
  initdbSql: 'initdb.sql',
} as const;

/** The accounts the operator creates on every instance (defined beside the SQL that creates them). */
export { systemAccounts } from '../../../../mysql/bootstrap-accounts.ts';

/** The MariaDB container's name in the pods, and its port. */
export const mariadbContainer = { name: 'mariadb', port: 3306, portName: 'mysql' } as const;
