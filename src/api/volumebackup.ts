// VolumeBackup: backups of the files of a PersistentVolumeClaim (the volume a
// WordPress or Drupal site writes its uploads to) as a compressed tar archive,
// once or on a cron schedule, with the same targets, encryption, retention and
// cluster-wide slots as MySQLBackup (docs/backups.md, "Files").
import * as s from './schema.ts';
import { conditions, objectName, observedGeneration, type Resource } from './common.ts';
import { durationSeconds, relativePath } from './backup-target.ts';
import { listedBackups, maxBackupNameLength, retentionReasons, runId, runPath, runResults, scheduledBackupFields, scheduledBackupStatusFields, sha256, sizeBytes } from './mysqlbackup.ts';

/** A folder of a PersistentVolumeClaim in the object's own namespace: never another namespace's volume. */
export const volumeFolder = (description: string, subPathDescription: string) =>
  s.object(
    {
      claimName: objectName("Name of the PersistentVolumeClaim, in this object's namespace."),
      subPath: relativePath(subPathDescription),
    },
    { description, required: ['claimName'] },
  );

export const volumeBackupSpec = s.object(
  {
    source: volumeFolder(
      "The volume whose files are backed up. It is mounted read-only into the backup Job; a ReadWriteOnce volume that a running pod uses is read on that pod's node.",
      'Folder within the volume to back up. Defaults to the whole volume (without its top-level lost+found).',
    ),
    ...scheduledBackupFields,
  },
  { description: 'Desired state of the VolumeBackup.', required: ['source', 'target'] },
);
export type VolumeBackupSpec = s.TypeOf<typeof volumeBackupSpec>;

const fileCount = s.integer({ description: 'Files, directories and symbolic links in the archive.', minimum: 0, format: 'int64' });
const contentBytes = s.integer({ description: 'Bytes of the regular files in the archive, before compression.', minimum: 0, format: 'int64' });
const contentSha256 = s.string({
  description: 'SHA-256 over every entry of the archive (type, mode, owner, size, modification time, file SHA-256 or link target, path): equal after a restore means every file came back as it was.',
  minLength: 64,
  maxLength: 64,
  pattern: '^[0-9a-f]{64}$',
});

const volumeLastRun = s.object(
  {
    id: runId('Id of the run: the UTC time it was due, YYYYMMDDTHHMMSSZ.'),
    jobName: s.string({ description: 'The Job that runs or ran it.', maxLength: 63 }),
    result: s.enumeration(runResults, {
      description: 'Running, Succeeded, Failed (after its retries), or Missed (could not start within startingDeadlineSeconds).',
    }),
    attempts: s.integer({ description: 'How many times the run was started.', minimum: 0 }),
    startTime: s.string({ description: 'When the run started.', format: 'date-time' }),
    completionTime: s.string({ description: 'When the run ended.', format: 'date-time' }),
    durationSeconds,
    sizeBytes,
    sha256,
    fileCount,
    contentBytes,
    contentSha256,
    path: runPath,
    message: s.string({ description: 'What went wrong, for a run that failed or was missed.', maxLength: 32768 }),
  },
  { description: 'The latest run, finished or not.', required: ['id', 'result'] },
);

const completedVolumeBackup = s.object(
  {
    id: runId('Id of the run that made it: the UTC time it was due.'),
    time: s.string({ description: 'When it was due (its id as a time); retention sorts backups into days, weeks and months by it.', format: 'date-time' }),
    completionTime: s.string({ description: 'When it was complete.', format: 'date-time' }),
    path: runPath,
    sizeBytes,
    sha256,
    fileCount,
    contentBytes,
    contentSha256,
    keptBecause: s.array(s.enumeration(retentionReasons, { description: 'A retention rule.' }), {
      description: 'The retention rules that keep it: last (keepLast), age (keepWithin), daily, weekly, monthly, newest (the newest complete backup is always kept).',
      maxItems: retentionReasons.length,
    }),
  },
  { description: 'A complete backup: its manifest was written after its archive.', required: ['id', 'path'] },
);

export const volumeBackupStatus = s.object(
  {
    conditions,
    observedGeneration,
    ...scheduledBackupStatusFields,
    lastRun: volumeLastRun,
    backups: listedBackups(completedVolumeBackup),
  },
  { description: 'Observed state of the VolumeBackup.' },
);
export type VolumeBackupStatus = s.TypeOf<typeof volumeBackupStatus>;

export const volumeBackupRootValidations: s.ValidationRule[] = [
  {
    rule: `self.metadata.name.size() <= ${maxBackupNameLength}`,
    message: `a VolumeBackup's name may have at most ${maxBackupNameLength} characters: it labels its Jobs`,
  },
];

export type VolumeBackup = Resource<'VolumeBackup', VolumeBackupSpec, VolumeBackupStatus>;
