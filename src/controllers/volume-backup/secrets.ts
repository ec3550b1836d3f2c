// Secrets a files Job mounts that are not there: told in Ready before a Job
// would wait on them (a pod with a missing Secret never starts).
import type { BackupTarget, Encryption } from '../../api/backup-target.ts';
import type { ControllerContext } from '../context.ts';
import type { Readiness } from '../status.ts';

export function missingSecret(context: ControllerContext, namespace: string, target: BackupTarget, encryption: Encryption | undefined): Readiness | undefined {
  const needed: { name: string; why: string }[] = [];
  const s3 = target.s3;
  if (s3 !== undefined) needed.push({ name: s3.credentialsSecret.name, why: 'target.s3.credentialsSecret' });
  if (s3?.tls?.caSecret !== undefined) needed.push({ name: s3.tls.caSecret.name, why: 'target.s3.tls.caSecret' });
  if (encryption !== undefined) needed.push({ name: encryption.secretKeyRef.name, why: 'encryption.secretKeyRef' });
  const missing = needed.find((n) => context.caches.secrets.get(namespace, n.name) === undefined);
  if (missing === undefined) return undefined;
  return { ready: false, reason: 'SecretMissing', message: `Secret ${namespace}/${missing.name} (${missing.why}) does not exist` };
}
