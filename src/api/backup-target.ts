// Schema pieces that MySQLBackup and MySQLRestore share: where backups are
// stored (an S3-compatible bucket or a PersistentVolumeClaim), how they are
// compressed and encrypted, and the Job settings of a run.
import * as s from './schema.ts';
import { objectName, secretKeyReference } from './common.ts';

/**
 * A relative path of plain segments: no leading "/", no "." or ".." segment,
 * so that a prefix or subPath can never climb out of where it points.
 */
export const relativePath = (description: string) =>
  s.string({
    description,
    minLength: 1,
    maxLength: 256,
    pattern: '^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$',
    validations: [{ rule: "!self.matches('(^|/)[.][.]?(/|$)')", message: 'a path may not hold "." or ".." segments' }],
  });

const s3Target = s.object(
  {
    endpoint: s.string({
      description: 'URL of the S3-compatible store, such as https://s3.eu-central-1.amazonaws.com or http://seaweedfs.storage:8333.',
      minLength: 1,
      maxLength: 512,
      pattern: '^https?://[^\\s/?#]+(/[^\\s?#]*)?$',
    }),
    bucket: s.string({
      description: 'Bucket that holds the backups. It must exist; the operator does not create buckets.',
      minLength: 3,
      maxLength: 63,
      pattern: '^[a-z0-9][a-z0-9.-]*[a-z0-9]$',
    }),
    prefix: relativePath(
      'Key prefix under which backups are written: <prefix>/<namespace>/<backup name>/<run id>/. Without it backups start at the top of the bucket.',
    ),
    region: s.string({
      description: 'Region of the bucket, for request signing. Defaults to us-east-1, which most S3-compatible stores accept.',
      default: 'us-east-1',
      minLength: 1,
      maxLength: 64,
      pattern: '^[a-z0-9][a-z0-9-]*$',
    }),
    pathStyle: s.boolean({
      description:
        'Address the bucket in the path (https://endpoint/bucket/key, the default, which self-hosted stores such as SeaweedFS and Ceph need) rather than in the host name (https://bucket.endpoint/key, which AWS prefers).',
      default: true,
    }),
    credentialsSecret: s.object(
      {
        name: objectName("Name of the Secret, in this object's namespace."),
        accessKeyIdKey: s.string({
          description: 'Key holding the access key ID. Defaults to AWS_ACCESS_KEY_ID.',
          default: 'AWS_ACCESS_KEY_ID',
          minLength: 1,
          maxLength: 253,
          pattern: '^[-._a-zA-Z0-9]+$',
        }),
        secretAccessKeyKey: s.string({
          description: 'Key holding the secret access key. Defaults to AWS_SECRET_ACCESS_KEY.',
          default: 'AWS_SECRET_ACCESS_KEY',
          minLength: 1,
          maxLength: 253,
          pattern: '^[-._a-zA-Z0-9]+$',
        }),
      },
      { description: 'Secret with the access key of an account that may read, write, list and delete objects under the prefix.', required: ['name'] },
    ),
    tls: s.object(
      {
        insecureSkipVerify: s.boolean({
          description: "Accept any server certificate. Only for tests: anyone between the Job and the store can then read and change backups.",
          default: false,
        }),
        caSecret: secretKeyReference("Secret holding the PEM bundle of the CA that signs the store's certificate. Without it the system's trusted CAs are used.", 'ca.crt'),
      },
      {
        description: 'TLS towards an https endpoint.',
        validations: [{ rule: '!(self.insecureSkipVerify && has(self.caSecret))', message: 'set either caSecret or insecureSkipVerify, not both' }],
      },
    ),
  },
  { description: 'An S3-compatible object store.', required: ['endpoint', 'bucket', 'credentialsSecret'] },
);

const pvcTarget = s.object(
  {
    claimName: objectName("Name of the PersistentVolumeClaim, in this object's namespace. It must exist; ReadWriteMany lets runs on different nodes share it."),
    subPath: relativePath('Folder within the volume under which backups are written: <subPath>/<namespace>/<backup name>/<run id>/. Defaults to the top of the volume.'),
  },
  { description: 'A PersistentVolumeClaim mounted into the backup and restore Jobs.', required: ['claimName'] },
);

export const backupTarget = s.object(
  { s3: s3Target, pvc: pvcTarget },
  {
    description: 'Where backups are stored: exactly one of s3 or pvc.',
    validations: [{ rule: 'has(self.s3) != has(self.pvc)', message: 'set exactly one of target.s3 or target.pvc' }],
  },
);
export type BackupTarget = s.TypeOf<typeof backupTarget>;
export type S3Target = s.TypeOf<typeof s3Target>;
export type PvcTarget = s.TypeOf<typeof pvcTarget>;

export const compressions = ['gzip', 'zstd', 'none'] as const;
export type Compression = (typeof compressions)[number];

export const encryption = s.object(
  {
    secretKeyRef: secretKeyReference(
      "Secret key holding the encryption key, in this object's namespace: any bytes; the stream is encrypted with AES-256 under a key derived from them. Losing this key loses the backups.",
      'key',
    ),
  },
  { description: 'Encrypt backups with a key from a Secret. The key never leaves the cluster; the store only sees ciphertext.', required: ['secretKeyRef'] },
);
export type Encryption = s.TypeOf<typeof encryption>;

export const activeDeadlineSeconds = (what: string) =>
  s.integer({
    description: `How long ${what} may run before its Job is stopped and the run counts as failed. Defaults to 3600 (one hour).`,
    default: 3600,
    minimum: 60,
    maximum: 7 * 24 * 3600,
  });

export const jobResources = s.opaque({
  description:
    'CPU and memory requests and limits of the Job\'s container (core/v1 ResourceRequirements). Defaults to requests of 100m CPU and 256Mi memory with a 1Gi memory limit.',
});

/** A length of time such as 30d, 12h or 1w2d: weeks (w), days (d), hours (h), minutes (m), seconds (s). */
export const durationPattern = '^([0-9]{1,6}[wdhms])+$';

/** What a status's durationSeconds must look like: seconds, up to three decimals, never negative. */
export const durationSecondsPattern = '^[0-9]+([.][0-9]{1,3})?$';

export const durationSeconds = s.string({
  description: 'How long it took, in seconds with up to three decimals (milliseconds), such as "1.734".',
  maxLength: 32,
  pattern: durationSecondsPattern,
});
