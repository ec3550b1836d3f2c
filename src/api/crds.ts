// Builds the CustomResourceDefinitions from the schemas in this folder. The
// committed YAML under config/crd is this module's output; a test fails when
// they differ.
import { stringify } from 'yaml';
import { group, version } from './common.ts';
import type { OpenApiSchema, Schema, ValidationRule } from './schema.ts';
import { mysqlClusterRootValidations, mysqlClusterSpec, mysqlClusterStatus } from './mysqlcluster.ts';
import { mysqlDatabaseRootValidations, mysqlDatabaseSpec, mysqlDatabaseStatus } from './mysqldatabase.ts';
import { mysqlUserRootValidations, mysqlUserSpec, mysqlUserStatus } from './mysqluser.ts';
import { mysqlBackupRootValidations, mysqlBackupSpec, mysqlBackupStatus } from './mysqlbackup.ts';
import { mysqlRestoreRootValidations, mysqlRestoreSpec, mysqlRestoreStatus } from './mysqlrestore.ts';
import { volumeBackupRootValidations, volumeBackupSpec, volumeBackupStatus } from './volumebackup.ts';
import { volumeRestoreRootValidations, volumeRestoreSpec, volumeRestoreStatus } from './volumerestore.ts';

interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'date' | 'boolean';
  jsonPath: string;
  description: string;
  priority?: number;
}

interface KindDefinition {
  kind: string;
  plural: string;
  shortNames: string[];
  description: string;
  spec: Schema<unknown>;
  status: Schema<unknown>;
  rootValidations: ValidationRule[];
  columns: PrinterColumn[];
}

const readyColumn: PrinterColumn = {
  name: 'Ready',
  type: 'string',
  jsonPath: '.status.conditions[?(@.type=="Ready")].status',
  description: 'Whether the object matches its spec.',
};
const reasonColumn: PrinterColumn = {
  name: 'Reason',
  type: 'string',
  jsonPath: '.status.conditions[?(@.type=="Ready")].reason',
  description: 'Why the object is, or is not, ready.',
};
const ageColumn: PrinterColumn = {
  name: 'Age',
  type: 'date',
  jsonPath: '.metadata.creationTimestamp',
  description: 'Time since creation.',
};
const clusterColumn: PrinterColumn = {
  name: 'Cluster',
  type: 'string',
  jsonPath: '.spec.cluster.name',
  description: 'The MySQLCluster.',
};

export const kinds: readonly KindDefinition[] = [
  {
    kind: 'MySQLCluster',
    plural: 'mysqlclusters',
    shortNames: ['mysqlcluster', 'myc'],
    description:
      'A MariaDB server set: one writer and readers run by the operator (managed), or an existing server (spec.external). MySQLDatabases and MySQLUsers attach to it.',
    spec: mysqlClusterSpec,
    status: mysqlClusterStatus,
    rootValidations: mysqlClusterRootValidations,
    columns: [
      { name: 'Mode', type: 'string', jsonPath: '.status.mode', description: 'Managed or External.' },
      { name: 'Primary', type: 'string', jsonPath: '.status.currentPrimary', description: 'The current writer (pod name).' },
      { name: 'Instances', type: 'integer', jsonPath: '.status.instances', description: 'Instances desired: the writer and the readers.' },
      { name: 'Ready Instances', type: 'integer', jsonPath: '.status.readyInstances', description: 'Instances ready.' },
      { name: 'Version', type: 'string', jsonPath: '.status.serverVersion', description: 'Server version.', priority: 1 },
      readyColumn,
      reasonColumn,
      ageColumn,
    ],
  },
  {
    kind: 'MySQLDatabase',
    plural: 'mysqldatabases',
    shortNames: ['mysqldb', 'mydb'],
    description: 'A database on a MySQLCluster, created and kept by the operator without restarting anything.',
    spec: mysqlDatabaseSpec,
    status: mysqlDatabaseStatus,
    rootValidations: mysqlDatabaseRootValidations,
    columns: [
      { name: 'Database', type: 'string', jsonPath: '.status.dbName', description: 'Name in MariaDB.' },
      clusterColumn,
      readyColumn,
      reasonColumn,
      ageColumn,
    ],
  },
  {
    kind: 'MySQLUser',
    plural: 'mysqlusers',
    shortNames: ['myuser'],
    description: 'A MariaDB account with its privileges on a MySQLCluster, and a connection Secret for applications.',
    spec: mysqlUserSpec,
    status: mysqlUserStatus,
    rootValidations: mysqlUserRootValidations,
    columns: [
      { name: 'Username', type: 'string', jsonPath: '.status.username', description: 'User name in MariaDB.' },
      { name: 'Host', type: 'string', jsonPath: '.status.host', description: 'Host part of the account.', priority: 1 },
      clusterColumn,
      readyColumn,
      reasonColumn,
      ageColumn,
    ],
  },
  {
    kind: 'MySQLBackup',
    plural: 'mysqlbackups',
    shortNames: ['mysqlbackup', 'mbk'],
    description:
      'Backups of databases of a MySQLCluster, once or on a schedule, to an S3-compatible store or a volume, kept by a retention policy. Runs wait for a slot under a cluster-wide limit.',
    spec: mysqlBackupSpec,
    status: mysqlBackupStatus,
    rootValidations: mysqlBackupRootValidations,
    columns: [
      clusterColumn,
      { name: 'Schedule', type: 'string', jsonPath: '.spec.schedule', description: 'Cron schedule; empty for a one-off backup.' },
      { name: 'Suspend', type: 'boolean', jsonPath: '.spec.suspend', description: 'Whether new runs are suspended.', priority: 1 },
      { name: 'Last Success', type: 'date', jsonPath: '.status.lastSuccessfulTime', description: 'When the last successful run completed.' },
      { name: 'Last Result', type: 'string', jsonPath: '.status.lastRun.result', description: 'Result of the latest run.' },
      { name: 'Queue', type: 'integer', jsonPath: '.status.queuePosition', description: 'Place in the queue for a slot, when waiting.', priority: 1 },
      { name: 'Next', type: 'date', jsonPath: '.status.nextScheduleTime', description: 'When the next run is due.', priority: 1 },
      readyColumn,
      reasonColumn,
      ageColumn,
    ],
  },
  {
    kind: 'MySQLRestore',
    plural: 'mysqlrestores',
    shortNames: ['mysqlrestore', 'mrs'],
    description:
      'One restore of a backup into a MySQLCluster, run as a Job. A database that holds tables is never overwritten unless spec.overwrite says so.',
    spec: mysqlRestoreSpec,
    status: mysqlRestoreStatus,
    rootValidations: mysqlRestoreRootValidations,
    columns: [
      clusterColumn,
      { name: 'Backup', type: 'string', jsonPath: '.spec.source.backup.name', description: 'The MySQLBackup restored from.' },
      { name: 'Id', type: 'string', jsonPath: '.status.backupId', description: 'The backup restored.' },
      { name: 'Complete', type: 'string', jsonPath: '.status.conditions[?(@.type=="Complete")].status', description: 'Whether the restore has completed.' },
      { name: 'Reason', type: 'string', jsonPath: '.status.conditions[?(@.type=="Failed")].reason', description: 'Why the restore failed, if it did.' },
      ageColumn,
    ],
  },
  {
    kind: 'VolumeBackup',
    plural: 'volumebackups',
    shortNames: ['volumebackup', 'vbk'],
    description:
      'Backups of the files of a PersistentVolumeClaim as an archive, once or on a schedule, to an S3-compatible store or a volume, kept by a retention policy. Runs share the cluster-wide limit with MySQLBackups.',
    spec: volumeBackupSpec,
    status: volumeBackupStatus,
    rootValidations: volumeBackupRootValidations,
    columns: [
      { name: 'Claim', type: 'string', jsonPath: '.spec.source.claimName', description: 'The PersistentVolumeClaim backed up.' },
      { name: 'Schedule', type: 'string', jsonPath: '.spec.schedule', description: 'Cron schedule; empty for a one-off backup.' },
      { name: 'Suspend', type: 'boolean', jsonPath: '.spec.suspend', description: 'Whether new runs are suspended.', priority: 1 },
      { name: 'Last Success', type: 'date', jsonPath: '.status.lastSuccessfulTime', description: 'When the last successful run completed.' },
      { name: 'Last Result', type: 'string', jsonPath: '.status.lastRun.result', description: 'Result of the latest run.' },
      { name: 'Files', type: 'integer', jsonPath: '.status.lastRun.fileCount', description: 'Entries in the latest archive.', priority: 1 },
      { name: 'Queue', type: 'integer', jsonPath: '.status.queuePosition', description: 'Place in the queue for a slot, when waiting.', priority: 1 },
      { name: 'Next', type: 'date', jsonPath: '.status.nextScheduleTime', description: 'When the next run is due.', priority: 1 },
      readyColumn,
      reasonColumn,
      ageColumn,
    ],
  },
  {
    kind: 'VolumeRestore',
    plural: 'volumerestores',
    shortNames: ['volumerestore', 'vrs'],
    description:
      'One restore of a VolumeBackup archive into a PersistentVolumeClaim, run as a Job. A folder that holds files is never overwritten unless spec.overwrite says so.',
    spec: volumeRestoreSpec,
    status: volumeRestoreStatus,
    rootValidations: volumeRestoreRootValidations,
    columns: [
      { name: 'Claim', type: 'string', jsonPath: '.spec.target.claimName', description: 'The PersistentVolumeClaim restored into.' },
      { name: 'Backup', type: 'string', jsonPath: '.spec.source.backup.name', description: 'The VolumeBackup restored from.' },
      { name: 'Id', type: 'string', jsonPath: '.status.backupId', description: 'The backup restored.' },
      { name: 'Files', type: 'integer', jsonPath: '.status.fileCount', description: 'Entries restored.', priority: 1 },
      { name: 'Complete', type: 'string', jsonPath: '.status.conditions[?(@.type=="Complete")].status', description: 'Whether the restore has completed.' },
      { name: 'Reason', type: 'string', jsonPath: '.status.conditions[?(@.type=="Failed")].reason', description: 'Why the restore failed, if it did.' },
      ageColumn,
    ],
  },
];

function rootSchema(definition: KindDefinition): OpenApiSchema {
  const root: OpenApiSchema = {
    type: 'object',
    description: definition.description,
    properties: {
      apiVersion: {
        type: 'string',
        description: 'Versioned schema of this representation of an object (flightdeck.t7.io/v1).',
      },
      kind: { type: 'string', description: `Kind of the object (${definition.kind}).` },
      // The API server forbids describing metadata beyond its type.
      metadata: { type: 'object' },
      spec: definition.spec.openapi,
      status: definition.status.openapi,
    },
    required: ['spec'],
  };
  if (definition.rootValidations.length > 0) root['x-kubernetes-validations'] = definition.rootValidations;
  return root;
}

export function customResourceDefinition(definition: KindDefinition): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${definition.plural}.${group}`,
      labels: { 'app.kubernetes.io/part-of': 'flightdeck-operator' },
    },
    spec: {
      group,
      names: {
        kind: definition.kind,
        listKind: `${definition.kind}List`,
        plural: definition.plural,
        singular: definition.kind.toLowerCase(),
        shortNames: definition.shortNames,
        categories: ['flightdeck'],
      },
      scope: 'Namespaced',
      versions: [
        {
          name: version,
          served: true,
          storage: true,
          schema: { openAPIV3Schema: rootSchema(definition) },
          subresources: { status: {} },
          additionalPrinterColumns: definition.columns,
        },
      ],
    },
  };
}

/** File name of each CRD under config/crd. */
export function crdFileName(definition: KindDefinition): string {
  return `${group}_${definition.plural}.yaml`;
}

const header = '# Generated from src/api by `./bin/flightdeck crds --write`. Do not edit.\n';

export function crdYaml(definition: KindDefinition): string {
  return header + stringify(customResourceDefinition(definition), { lineWidth: 0 });
}

/** All CRDs as one multi-document YAML stream. */
export function allCrdsYaml(): string {
  return kinds.map((k) => crdYaml(k)).join('---\n');
}
