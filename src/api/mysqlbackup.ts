// MySQLBackup: backups of one database, several, or a whole MySQLCluster,
// once or on a cron schedule, to an S3-compatible store or a volume, with a
// retention policy. The runs are Jobs that wait for a slot under a
// cluster-wide limit (docs/backups.md).
import * as s from './schema.ts';
import { conditions, namespaceName, objectName, observedGeneration, type Resource } from './common.ts';
import { activeDeadlineSeconds, backupTarget, compressions, durationPattern, durationSeconds, encryption, jobResources } from './backup-target.ts';
import { databaseName, systemDatabases } from '../mysql/identifiers.ts';
import { cronSchedulePattern } from '../backup/cron-syntax.ts';

const systemDatabaseList = `[${systemDatabases.map((d) => `'${d}'`).join(', ')}]`;

/** Longest MySQLBackup and MySQLRestore name: it becomes the value of a label on their Jobs. */
export const maxBackupNameLength = 63;

export const backupMethods = ['logical', 'physical'] as const;
export type BackupMethod = (typeof backupMethods)[number];

/** The time zone a schedule is read in when spec.timeZone is not set. */
export const defaultTimeZone = 'UTC';

/** Retention when spec.retention leaves a field out (the API server fills these in). */
export const defaultRetention = { keepLast: 0, daily: 7, weekly: 4, monthly: 12 } as const;

export const backupClusterReference = s.object(
  {
    name: objectName('Name of the MySQLCluster.'),
    namespace: namespaceName(
      "Namespace of the MySQLCluster. Defaults to this object's namespace. The cluster must admit this namespace (spec.allowedNamespaces).",
    ),
  },
  { description: 'The MySQLCluster whose databases are backed up.', required: ['name'] },
);

const retentionCount = (description: string, fallback: number) =>
  s.integer({ description: `${description} Defaults to ${fallback}; 0 turns this rule off.`, default: fallback, minimum: 0, maximum: 1000 });

const duration = (description: string) => s.string({ description, maxLength: 32, pattern: durationPattern });

export const retentionPolicy = s.object(
  {
    keepLast: retentionCount('Keep the newest N backups, whatever their age.', defaultRetention.keepLast),
    keepWithin: duration('Keep every backup younger than this, such as 36h or 14d (units w, d, h, m, s). Unset: no such rule.'),
    daily: retentionCount('Keep the newest backup of each of the last N days that have one.', defaultRetention.daily),
    weekly: retentionCount('Keep the newest backup of each of the last N ISO weeks (Monday to Sunday) that have one.', defaultRetention.weekly),
    monthly: retentionCount('Keep the newest backup of each of the last N calendar months that have one.', defaultRetention.monthly),
    maxAge: duration(
      'A limit: a backup older than this is deleted even when a rule above would keep it, such as 90d. Unset: no limit. The newest complete backup is always kept.',
    ),
  },
  {
    description:
      'Which complete backups to keep; the others are deleted by the operator after each run. A backup is kept when any rule keeps it (unless older than maxAge). Days, weeks and months are those of spec.timeZone. Interrupted runs are never counted.',
    // An empty object by default, so that the API server fills in the counts' defaults.
    default: {},
  },
);
export type RetentionPolicy = s.TypeOf<typeof retentionPolicy>;

/**
 * The fields of a backup kind that say when it runs, how its data is stored
 * and kept, and its Jobs' limits: shared by MySQLBackup and VolumeBackup.
 */
export const scheduledBackupFields = {
  schedule: s.string({
    description:
      'When to back up, as a 5-field cron expression read in spec.timeZone, such as "0 3 * * *" (03:00 every day) or "30 2 * * sun". Omitted: one backup, now. Runs start within backups.jitterSeconds (a chart value) after the scheduled minute, each schedule at its own fixed offset, and wait for a free slot under backups.maxConcurrent.',
    minLength: 9,
    maxLength: 128,
    validations: [
      {
        rule: `self.matches('${cronSchedulePattern.replaceAll('\\', '\\\\')}')`,
        message: 'schedule must be a 5-field cron expression: minute (0-59) hour (0-23) day-of-month (1-31) month (1-12 or jan-dec) day-of-week (0-7 or sun-sat), each "*", a value, a range a-b, a list a,b and optionally /step',
      },
    ],
  }),
  timeZone: s.string({
    description:
      'IANA time zone in which the schedule and the retention\'s days, weeks and months are read, such as Europe/Berlin. Defaults to UTC. A time the clocks skip (a daylight-saving change) runs at the moment of the change; a time that occurs twice runs once, the first time.',
    default: defaultTimeZone,
    minLength: 1,
    maxLength: 64,
    pattern: '^[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*$',
  }),
  suspend: s.boolean({
    description: 'Start no new scheduled runs while true; a run already started finishes. Retention still applies. Defaults to false.',
    default: false,
  }),
  startingDeadlineSeconds: s.integer({
    description:
      'A run that could not start within this many seconds of its scheduled time (the operator was down, or the queue for a slot was long) is skipped and reported as missed. Unset: a late run still starts, once, however late.',
    minimum: 60,
    maximum: 7 * 24 * 3600,
  }),
  compression: s.enumeration(compressions, { description: 'gzip (default), zstd (faster, smaller) or none.', default: 'gzip' }),
  encryption,
  target: backupTarget,
  retention: retentionPolicy,
  activeDeadlineSeconds: activeDeadlineSeconds('one backup run'),
  resources: jobResources,
} as const;

export const mysqlBackupSpec = s.object(
  {
    cluster: backupClusterReference,
    databases: s.array(
      s.string({
        description: `A database name. Allowed: ${databaseName.explanation}.`,
        minLength: 1,
        maxLength: databaseName.maxLength,
        pattern: databaseName.pattern,
        validations: [{ rule: `!(self in ${systemDatabaseList})`, message: 'a system database of MariaDB cannot be named here' }],
      }),
      {
        description:
          "Databases to back up. Omitted: every database of the cluster except the system ones, which only a MySQLBackup in the cluster's own namespace may do. A MySQLBackup in another namespace may only name databases that MySQLDatabases in its own namespace own.",
        minItems: 1,
        maxItems: 256,
        listType: 'set',
      },
    ),
    method: s.enumeration(backupMethods, {
      description:
        'logical (default): mariadb-dump in one consistent transaction, with the GTID position recorded; works with any cluster. physical: mariadb-backup of a whole managed cluster, taken from a healthy reader when there is one (not available yet).',
      default: 'logical',
    }),
    ...scheduledBackupFields,
  },
  {
    description: 'Desired state of the MySQLBackup.',
    required: ['cluster', 'target'],
    validations: [
      {
        rule: "self.method != 'physical' || !has(self.databases)",
        message: 'a physical backup copies the whole cluster: leave databases out, or use method: logical',
        fieldPath: '.databases',
      },
    ],
  },
);
export type MySQLBackupSpec = s.TypeOf<typeof mysqlBackupSpec>;

/** Condition types of a MySQLBackup. */
export const backupConditionTypes = {
  /** The spec can be acted on: cluster reachable and admitting this namespace, target and Secrets present, schedule valid. */
  ready: 'Ready',
  /** Whether the last run that ended (or should have started) produced a complete backup; False on a failed or missed run. */
  lastBackupSucceeded: 'LastBackupSucceeded',
} as const;

export const runResults = ['Running', 'Succeeded', 'Failed', 'Missed'] as const;
export type RunResult = (typeof runResults)[number];

/** A run's id: the UTC time it was due, YYYYMMDDTHHMMSSZ (src/backup/manifest.ts formats and parses it). */
export const runId = (description: string) => s.string({ description, minLength: 16, maxLength: 16, pattern: '^[0-9]{8}T[0-9]{6}Z$' });

export const sizeBytes = s.integer({ description: 'Size of the stored backup in bytes (after compression and encryption).', minimum: 0, format: 'int64' });
export const sha256 = s.string({ description: 'SHA-256 of the stored backup object, in hex.', minLength: 64, maxLength: 64, pattern: '^[0-9a-f]{64}$' });
const gtidPosition = s.string({ description: 'GTID position of the server at the consistent point of the backup (gtid_binlog_pos), for point-in-time recovery and replicas.', maxLength: 4096 });
export const runPath = s.string({
  description: "The run's folder in the target, below its prefix or subPath: <namespace>/<backup name>/<run id>. A MySQLRestore's source.path takes it.",
  maxLength: 512,
});

const lastRun = s.object(
  {
    id: runId('Id of the run: the UTC time it was due, YYYYMMDDTHHMMSSZ.'),
    jobName: s.string({ description: 'The Job that runs or ran it.', maxLength: 63 }),
    result: s.enumeration(runResults, {
      description: 'Running, Succeeded, Failed (after its retries), or Missed (could not start within startingDeadlineSeconds).',
    }),
    attempts: s.integer({ description: 'How many times the run was started; a failed attempt is retried at its place in the queue.', minimum: 0 }),
    startTime: s.string({ description: 'When the run started.', format: 'date-time' }),
    completionTime: s.string({ description: 'When the run ended.', format: 'date-time' }),
    durationSeconds,
    sizeBytes,
    sha256,
    gtidPosition,
    path: runPath,
    source: s.string({
      description:
        'A physical backup\'s source: the instance copied, its role, and why it (the most advanced healthy reader; the writer only when no reader is healthy).',
      maxLength: 1024,
    }),
    message: s.string({ description: 'What went wrong, for a run that failed or was missed.', maxLength: 32768 }),
  },
  { description: 'The latest run, finished or not.', required: ['id', 'result'] },
);

export const retentionReasons = ['last', 'age', 'daily', 'weekly', 'monthly', 'newest'] as const;

const completedBackup = s.object(
  {
    id: runId('Id of the run that made it: the UTC time it was due.'),
    time: s.string({ description: 'When it was due (its id as a time); retention sorts backups into days, weeks and months by it.', format: 'date-time' }),
    completionTime: s.string({ description: 'When it was complete.', format: 'date-time' }),
    path: runPath,
    sizeBytes,
    sha256,
    gtidPosition,
    databases: s.array(s.string({ description: 'A database name.', maxLength: databaseName.maxLength }), {
      description: 'The databases it holds.',
      maxItems: 4096,
    }),
    keptBecause: s.array(s.enumeration(retentionReasons, { description: 'A retention rule.' }), {
      description: 'The retention rules that keep it: last (keepLast), age (keepWithin), daily, weekly, monthly, newest (the newest complete backup is always kept).',
      maxItems: retentionReasons.length,
    }),
  },
  { description: 'A complete backup: its manifest was written after its data.', required: ['id', 'path'] },
);

/** How many backups status.backups lists at most; the store holds the rest. */
export const maxListedBackups = 500;

/** The status fields of every kind of scheduled backup (MySQLBackup, VolumeBackup) besides lastRun and backups. */
export const scheduledBackupStatusFields = {
  nextScheduleTime: s.string({ description: 'When the next run is due (before its jitter).', format: 'date-time' }),
  lastScheduleTime: s.string({ description: 'When the last run was due.', format: 'date-time' }),
  lastSuccessfulTime: s.string({ description: 'When the last successful run completed.', format: 'date-time' }),
  queued: s.boolean({ description: 'Whether a run is due and waits for a free slot under the cluster-wide limit (shared by MySQLBackups and VolumeBackups).' }),
  queuePosition: s.integer({ description: 'Place in the queue of waiting runs, 1 being next; absent when not queued.', minimum: 1 }),
  queueLength: s.integer({ description: 'How many runs, of all MySQLBackups and VolumeBackups, waited for a slot when this status was written.', minimum: 0 }),
};

/** status.backups of a scheduled backup kind, each listed as `entry`. */
export function listedBackups<T>(entry: s.Schema<T>): s.Schema<T[]> {
  return s.array(entry, {
    description: `Complete backups that retention keeps, newest first (at most ${maxListedBackups}). Listed from the manifests in an S3 target when this status has never listed any (a new object, or this one applied again without its status, as a Velero restore does).`,
    maxItems: maxListedBackups,
  });
}

export const mysqlBackupStatus = s.object(
  {
    conditions,
    observedGeneration,
    ...scheduledBackupStatusFields,
    lastRun,
    backups: listedBackups(completedBackup),
  },
  { description: 'Observed state of the MySQLBackup.' },
);
export type MySQLBackupStatus = s.TypeOf<typeof mysqlBackupStatus>;

/** Names are label values on the Jobs, hence at most 63 characters. */
export const mysqlBackupRootValidations: s.ValidationRule[] = [
  {
    rule: `self.metadata.name.size() <= ${maxBackupNameLength}`,
    message: `a MySQLBackup's name may have at most ${maxBackupNameLength} characters: it labels its Jobs`,
  },
];

export type MySQLBackup = Resource<'MySQLBackup', MySQLBackupSpec, MySQLBackupStatus>;
