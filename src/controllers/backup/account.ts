// The MariaDB account a backup's or restore's Job logs in as: one per
// MySQLBackup or MySQLRestore, its password in a Secret in the object's
// namespace that the object owns (deleted with it). The account exists only
// while a Job runs: made with exactly the grants of that run before the Job
// is created, dropped once the Job ended.
import { createHash, randomBytes } from 'node:crypto';
import type { Grant, MySQLClient } from '../../mysql/client.ts';
import { jobAccountName } from '../../mysql/job-accounts.ts';
import { managedByLabel, secretValue, type ControllerContext, type SecretObject } from '../context.ts';
import { jobName, type JobOwner } from './job.ts';

/** Any host: Job pods have no fixed address. The password and the short life of the account are the guard. */
const accountHost = '%';

export interface JobAccount {
  readonly user: string;
  readonly secretName: string;
}

export function jobAccountOf(owner: JobOwner): JobAccount {
  const hash = createHash('sha256').update(owner.uid).digest('hex');
  return { user: jobAccountName(hash), secretName: jobName(owner.name, owner.kind === 'MySQLBackup' ? 'backup-account' : 'restore-account') };
}

/**
 * Creates the Secret when missing (never overwritten: a Job may be reading
 * it), then the account with the Secret's password and exactly `grants`.
 */
export async function ensureJobAccount(context: ControllerContext, owner: JobOwner, client: MySQLClient, grants: readonly Grant[]): Promise<JobAccount> {
  const account = jobAccountOf(owner);
  let secret = context.caches.secrets.get(owner.namespace, account.secretName);
  if (secret === undefined) {
    const created = await context.kube.create<SecretObject>({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: account.secretName,
        namespace: owner.namespace,
        labels: { ...managedByLabel },
        ownerReferences: [{ apiVersion: 'flightdeck.t7.io/v1', kind: owner.kind, name: owner.name, uid: owner.uid, controller: true, blockOwnerDeletion: true }],
      },
      type: 'Opaque',
      data: {
        username: Buffer.from(account.user).toString('base64'),
        password: Buffer.from(randomBytes(24).toString('base64url')).toString('base64'),
      },
    });
    secret = created ?? (await context.kube.get<SecretObject>({ apiVersion: 'v1', kind: 'Secret', namespace: owner.namespace, name: account.secretName }));
  }
  const password = secretValue(secret, 'password');
  if (password === undefined || password === '' || secretValue(secret, 'username') !== account.user) {
    throw new Error(`Secret ${owner.namespace}/${account.secretName} of ${owner.kind} ${owner.name} lacks its username or password; delete it to have it made again`);
  }
  context.signal.throwIfAborted();
  const existing = await client.getUser(account.user, accountHost);
  if (existing === undefined) await client.createUser(account.user, accountHost, password);
  else await client.setPassword(account.user, accountHost, password);
  await client.setGrants(account.user, accountHost, grants, { newAccount: existing === undefined });
  return account;
}

/** Drops the account; nothing happens when it is gone already. */
export async function dropJobAccount(owner: JobOwner, client: MySQLClient): Promise<void> {
  await client.dropUser(jobAccountOf(owner).user, accountHost);
}
