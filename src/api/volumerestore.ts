// VolumeRestore: one restore of a VolumeBackup's archive into a folder of a
// PersistentVolumeClaim, run once as a Job. A target folder that holds
// anything is refused, unchanged, unless spec.overwrite says so.
import * as s from './schema.ts';
import { conditions, objectName, observedGeneration, type Resource } from './common.ts';
import { activeDeadlineSeconds, backupTarget, encryption, jobResources } from './backup-target.ts';
import { maxBackupNameLength } from './mysqlbackup.ts';
import { restoreRunStatusFields } from './mysqlrestore.ts';
import { volumeFolder } from './volumebackup.ts';

const source = s.object(
  {
    backup: s.object(
      {
        name: objectName("Name of the VolumeBackup, in this object's namespace."),
        id: s.string({
          description: 'Which of its backups (status.backups[].id, the UTC time it was due: YYYYMMDDTHHMMSSZ). Defaults to the newest complete one.',
          minLength: 16,
          maxLength: 16,
          pattern: '^[0-9]{8}T[0-9]{6}Z$',
        }),
      },
      { description: 'A backup of a VolumeBackup in this namespace; its target and encryption are taken from it.', required: ['name'] },
    ),
    target: backupTarget,
    path: s.string({
      description:
        "With target: the backup's folder in the target below its prefix or subPath, <namespace>/<backup name>/<run id>, as a VolumeBackup's status.backups[].path shows it. For a backup whose VolumeBackup is gone.",
      minLength: 1,
      maxLength: 512,
      pattern: '^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$',
      validations: [{ rule: "!self.matches('(^|/)[.][.]?(/|$)')", message: 'a path may not hold "." or ".." segments' }],
    }),
  },
  {
    description: 'The backup to restore: either backup (a VolumeBackup and one of its backups), or target and path (a backup in a store, read through its manifest.json).',
    validations: [
      { rule: 'has(self.backup) != has(self.target)', message: 'set exactly one of source.backup or source.target' },
      { rule: 'has(self.target) == has(self.path)', message: 'source.target and source.path go together' },
    ],
  },
);

export const volumeRestoreSpec = s.object(
  {
    source,
    target: volumeFolder(
      'The volume to restore into, in this namespace. The archive is extracted into a temporary folder on it and moved into place only when complete.',
      'Folder within the volume to restore into (made when missing). Defaults to the top of the volume.',
    ),
    overwrite: s.boolean({
      description:
        'false (default): a target folder that holds anything (but a top-level lost+found) is refused and the restore fails without changing it. true: its contents are replaced by those of the backup.',
      default: false,
    }),
    encryption,
    activeDeadlineSeconds: activeDeadlineSeconds('the restore'),
    resources: jobResources,
  },
  {
    description: 'Desired state of the VolumeRestore. It cannot change after creation: a restore runs once; create a new VolumeRestore to restore again.',
    required: ['source', 'target'],
    validations: [{ rule: 'self == oldSelf', message: 'a VolumeRestore cannot be changed; create a new one to restore again' }],
  },
);
export type VolumeRestoreSpec = s.TypeOf<typeof volumeRestoreSpec>;

export const volumeRestoreStatus = s.object(
  {
    conditions,
    observedGeneration,
    ...restoreRunStatusFields,
    fileCount: s.integer({ description: 'Files, directories and symbolic links restored.', minimum: 0, format: 'int64' }),
    contentBytes: s.integer({ description: 'Bytes of the regular files restored.', minimum: 0, format: 'int64' }),
    contentSha256: s.string({ description: "SHA-256 over every restored entry, computed as the backup's contentSha256.", maxLength: 64 }),
    verified: s.boolean({ description: "Whether contentSha256 equals the one the backup's manifest recorded: every file, its mode, owner and time came back." }),
    message: s.string({ description: 'What happened, or why the restore failed.', maxLength: 32768 }),
  },
  { description: 'Observed state of the VolumeRestore.' },
);
export type VolumeRestoreStatus = s.TypeOf<typeof volumeRestoreStatus>;

export const volumeRestoreRootValidations: s.ValidationRule[] = [
  {
    rule: `self.metadata.name.size() <= ${maxBackupNameLength}`,
    message: `a VolumeRestore's name may have at most ${maxBackupNameLength} characters: it labels its Job`,
  },
];

export type VolumeRestore = Resource<'VolumeRestore', VolumeRestoreSpec, VolumeRestoreStatus>;
