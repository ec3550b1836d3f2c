// The physical branch of a MySQLBackup run (reconcile.ts): whether the
// cluster can give one, and the Job that copies it. A physical backup is a
// copy of one instance's whole data directory, streamed from its donor
// endpoint, so it needs a managed cluster (an external server has no donor
// endpoint and its files are out of reach) and — the tenancy rule of
// whole-cluster backups, scope.ts — a MySQLBackup in the cluster's own
// namespace, where its Job can resolve the instances and read the
// replication password.
import type { MySQLBackupSpec } from '../../api/mysqlbackup.ts';
import { clusterNames } from '../cluster/managed/builders/names.ts';
import type { ClusterAccess } from '../cluster-access.ts';
import type { Readiness } from '../status.ts';
import { runSourceAnnotation, type JobManifest, type JobOwner } from './job.ts';
import { physicalBackupDonor, type PhysicalDonor } from './physical-donor.ts';
import { physicalBackupJob } from './physical-job.ts';

/** Undefined when a physical backup of this cluster can start; otherwise the Ready condition that says why not. */
export function physicalRefusal(access: ClusterAccess): Readiness | undefined {
  if (access.intent.managed !== undefined) return undefined;
  const { namespace, name } = access.intent.key;
  return {
    ready: false,
    reason: 'PhysicalNotSupported',
    message: `physical backups (mariadb-backup) copy the data directory of a managed cluster's instance; MySQLCluster ${namespace}/${name} is external (spec.external), so use method: logical`,
  };
}

export interface PhysicalRun {
  readonly job: JobManifest;
  readonly donor: PhysicalDonor;
}

export interface PhysicalRunInput {
  readonly owner: JobOwner;
  readonly access: ClusterAccess;
  readonly spec: MySQLBackupSpec;
  readonly runId: string;
  readonly attempt: number;
  /** <namespace>/<backup>/<id>. */
  readonly runPath: string;
}

/** The Job of one physical run; throws, naming the cluster, when it has no instance to copy yet. */
export function physicalRun(input: PhysicalRunInput): PhysicalRun {
  const { access, spec } = input;
  const managed = access.intent.managed;
  const { namespace, name } = access.intent.key;
  if (managed === undefined) throw new Error(`MySQLCluster ${namespace}/${name} is not managed: it has no instance to copy`);
  if (input.owner.namespace !== namespace) throw new Error(`a physical backup of MySQLCluster ${namespace}/${name} must be made in namespace ${namespace}`);
  const donor = physicalBackupDonor(access.cluster.status);
  if ('problem' in donor) throw new Error(`MySQLCluster ${namespace}/${name} has no instance to copy: ${donor.problem}`);
  const job = physicalBackupJob({
    owner: input.owner,
    image: managed.image,
    names: clusterNames(name, managed),
    donor,
    target: spec.target,
    runPath: input.runPath,
    runId: input.runId,
    attempt: input.attempt,
    compression: spec.compression ?? 'gzip',
    encryptionKey: spec.encryption === undefined ? undefined : { secretName: spec.encryption.secretKeyRef.name, key: spec.encryption.secretKeyRef.key ?? 'key' },
    activeDeadlineSeconds: spec.activeDeadlineSeconds ?? 3600,
    resources: spec.resources,
  });
  job.metadata.annotations = { ...job.metadata.annotations, [runSourceAnnotation]: runSource(donor) };
  return { job, donor };
}

/** What status.lastRun.source says of a physical run's donor. */
export function runSource(donor: PhysicalDonor): string {
  return `${donor.instance} (${donor.role}): ${donor.reason}`;
}
