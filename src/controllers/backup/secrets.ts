// Secrets a backup Job (of a database or of files) mounts that are not
// there: told in Ready before a Job would wait on them (a pod with a missing
// Secret never starts), and the backups told so are queued again when a
// Secret appears in their namespace.
import type { BackupTarget, Encryption } from '../../api/backup-target.ts';
import type { Informer, KubeObject } from '../../runtime/informer.ts';
import { watches, type Trigger } from '../../runtime/triggers.ts';
import { keyOf, type ControllerContext, type SecretObject } from '../context.ts';
import type { Readiness } from '../status.ts';

/** The reason of Ready while a Secret is missing. */
const secretMissing = 'SecretMissing';

export function missingSecret(context: ControllerContext, namespace: string, target: BackupTarget, encryption: Encryption | undefined): Readiness | undefined {
  const needed: { name: string; why: string }[] = [];
  const s3 = target.s3;
  if (s3 !== undefined) needed.push({ name: s3.credentialsSecret.name, why: 'target.s3.credentialsSecret' });
  if (s3?.tls?.caSecret !== undefined) needed.push({ name: s3.tls.caSecret.name, why: 'target.s3.tls.caSecret' });
  if (encryption !== undefined) needed.push({ name: encryption.secretKeyRef.name, why: 'encryption.secretKeyRef' });
  const missing = needed.find((n) => context.caches.secrets.get(namespace, n.name) === undefined);
  if (missing === undefined) return undefined;
  return { ready: false, reason: secretMissing, message: `Secret ${namespace}/${missing.name} (${missing.why}) does not exist` };
}

/** Queues the objects of `informer` told SecretMissing when a Secret is created in their namespace: they go on at once, not at the next resync. */
export function waitingForSecret<T extends KubeObject & { status?: { conditions?: readonly { type: string; reason?: string }[] } }>(secrets: Informer<SecretObject>, informer: Informer<T>, what: string): Trigger {
  return watches(secrets, `${what} waiting for a Secret that appeared`, (event, secret) =>
    event === 'add' ? informer.list(secret.metadata.namespace).filter((o) => o.status?.conditions?.find((c) => c.type === 'Ready')?.reason === secretMissing).map(keyOf) : [],
  );
}
