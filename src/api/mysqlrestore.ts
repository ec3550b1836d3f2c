// MySQLRestore: one restore of a backup made by a MySQLBackup into a
// MySQLCluster, run once as a Job. It never overwrites a database that holds
// tables unless spec.overwrite says so.
import * as s from './schema.ts';
import { conditions, namespaceName, objectName, observedGeneration, type Resource } from './common.ts';
import { activeDeadlineSeconds, backupTarget, durationSeconds, encryption, jobResources } from './backup-target.ts';
import { maxBackupNameLength } from './mysqlbackup.ts';
import { databaseName, systemDatabases } from '../mysql/identifiers.ts';

const systemDatabaseList = `[${systemDatabases.map((d) => `'${d}'`).join(', ')}]`;

const databaseField = (description: string) =>
  s.string({
    description: `${description} Allowed: ${databaseName.explanation}.`,
    minLength: 1,
    maxLength: databaseName.maxLength,
    pattern: databaseName.pattern,
    validations: [{ rule: `!(self in ${systemDatabaseList})`, message: 'a system database of MariaDB cannot be restored or restored into' }],
  });

const restoreClusterReference = s.object(
  {
    name: objectName('Name of the MySQLCluster.'),
    namespace: namespaceName(
      "Namespace of the MySQLCluster. Defaults to this object's namespace. The cluster must admit this namespace (spec.allowedNamespaces).",
    ),
  },
  { description: 'The MySQLCluster to restore into.', required: ['name'] },
);

const source = s.object(
  {
    backup: s.object(
      {
        name: objectName("Name of the MySQLBackup, in this object's namespace."),
        id: s.string({
          description: "Which of its backups (status.backups[].id, the UTC time it was due: YYYYMMDDTHHMMSSZ). Defaults to the newest complete one.",
          minLength: 16,
          maxLength: 16,
          pattern: '^[0-9]{8}T[0-9]{6}Z$',
        }),
      },
      { description: 'A backup of a MySQLBackup in this namespace; its target, compression and encryption are taken from it.', required: ['name'] },
    ),
    target: backupTarget,
    path: s.string({
      description:
        "With target: the backup's folder in the target below its prefix or subPath, <namespace>/<backup name>/<run id>, as a MySQLBackup's status.backups[].path shows it. For a backup whose MySQLBackup is gone.",
      minLength: 1,
      maxLength: 512,
      pattern: '^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$',
      validations: [{ rule: "!self.matches('(^|/)[.][.]?(/|$)')", message: 'a path may not hold "." or ".." segments' }],
    }),
  },
  {
    description: 'The backup to restore: either backup (a MySQLBackup and one of its backups), or target and path (a backup in a store, read through its manifest.json).',
    validations: [
      { rule: 'has(self.backup) != has(self.target)', message: 'set exactly one of source.backup or source.target' },
      { rule: 'has(self.target) == has(self.path)', message: 'source.target and source.path go together' },
    ],
  },
);

const databaseMapping = s.object(
  {
    from: databaseField('The database as it was backed up.'),
    to: databaseField('The database to restore it into. Defaults to the same name.'),
  },
  { description: 'One database to restore, and under which name.', required: ['from'] },
);

export const mysqlRestoreSpec = s.object(
  {
    cluster: restoreClusterReference,
    source,
    databases: s.array(databaseMapping, {
      description: 'Databases to restore, each optionally under a new name. Omitted: every database of the backup, under its own name.',
      minItems: 1,
      maxItems: 256,
      validations: [{ rule: 'self.all(a, self.exists_one(b, (has(b.to) ? b.to : b.from) == (has(a.to) ? a.to : a.from)))', message: 'two databases would be restored into the same name' }],
    }),
    overwrite: s.boolean({
      description:
        'false (default): a target database that exists and holds tables is refused and the restore fails without touching it. true: its tables are replaced by those of the backup.',
      default: false,
    }),
    encryption,
    activeDeadlineSeconds: activeDeadlineSeconds('the restore'),
    resources: jobResources,
  },
  {
    description: 'Desired state of the MySQLRestore. It cannot change after creation: a restore runs once; create a new MySQLRestore to restore again.',
    required: ['cluster', 'source'],
    validations: [{ rule: 'self == oldSelf', message: 'a MySQLRestore cannot be changed; create a new one to restore again' }],
  },
);
export type MySQLRestoreSpec = s.TypeOf<typeof mysqlRestoreSpec>;

/** Condition types of a MySQLRestore: one of them becomes True when it ends. */
export const restoreConditionTypes = { complete: 'Complete', failed: 'Failed' } as const;

const restoredDatabase = s.object(
  {
    database: s.string({ description: 'The database restored into.', maxLength: databaseName.maxLength }),
    from: s.string({ description: 'The database as it was backed up.', maxLength: databaseName.maxLength }),
    tables: s.integer({ description: 'Tables restored.', minimum: 0 }),
    rows: s.integer({ description: 'Rows restored, summed over the tables.', minimum: 0, format: 'int64' }),
    checksumsMatch: s.boolean({ description: "Whether every table's CHECKSUM TABLE after the restore equals the one the backup's manifest recorded." }),
  },
  { description: 'One database restored.', required: ['database'] },
);

/** The status fields of every restore kind (MySQLRestore, VolumeRestore) about its one run. */
export const restoreRunStatusFields = {
  backupId: s.string({ description: 'Id of the backup being restored (resolved when spec.source.backup.id is unset).', maxLength: 16 }),
  path: s.string({ description: "The backup's folder in its target.", maxLength: 512 }),
  jobName: s.string({ description: 'The Job that runs or ran the restore.', maxLength: 63 }),
  startTime: s.string({ description: 'When the restore started.', format: 'date-time' }),
  completionTime: s.string({ description: 'When the restore ended.', format: 'date-time' }),
  durationSeconds,
};

export const mysqlRestoreStatus = s.object(
  {
    conditions,
    observedGeneration,
    ...restoreRunStatusFields,
    restored: s.array(restoredDatabase, { description: 'What was restored.', maxItems: 256 }),
    message: s.string({ description: 'What happened, or why the restore failed.', maxLength: 32768 }),
  },
  { description: 'Observed state of the MySQLRestore.' },
);
export type MySQLRestoreStatus = s.TypeOf<typeof mysqlRestoreStatus>;

export const mysqlRestoreRootValidations: s.ValidationRule[] = [
  {
    rule: `self.metadata.name.size() <= ${maxBackupNameLength}`,
    message: `a MySQLRestore's name may have at most ${maxBackupNameLength} characters: it labels its Job`,
  },
];

export type MySQLRestore = Resource<'MySQLRestore', MySQLRestoreSpec, MySQLRestoreStatus>;
