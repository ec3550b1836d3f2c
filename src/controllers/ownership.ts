// "One database name, one owner": who owns a database or a user is recorded
// on the MariaDB server itself, so the record survives operator restarts and
// a restore of the Kubernetes objects (which gives them new uids).
import type { MySQLClient, OwnedKind } from '../mysql/client.ts';
import type { ClusterAccess } from './cluster-access.ts';
import type { Readiness } from './status.ts';
import { mayAdopt } from './tenancy.ts';

export interface Claimant {
  readonly kind: 'MySQLDatabase' | 'MySQLUser';
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
}

export type OwnershipResult = { readonly owned: true; readonly adopted: boolean; readonly restored: boolean } | { readonly halt: Readiness };

/**
 * Makes `claimant` the recorded owner of `key` (a database name, or
 * user@host), or says why not. `existsOnServer` is asked only when nobody
 * owns the key yet: taking over something that exists is adoption, which only
 * the cluster's namespace and the namespaces it names may do.
 */
export async function claimOwnership(
  client: MySQLClient,
  access: ClusterAccess,
  what: OwnedKind,
  key: string,
  claimant: Claimant,
  existsOnServer: () => Promise<boolean>,
): Promise<OwnershipResult> {
  const me = { namespace: claimant.namespace, name: claimant.name, uid: claimant.uid };
  const owner = await client.getOwner(what, key);
  if (owner?.uid === me.uid) return { owned: true, adopted: false, restored: false };
  if (owner !== undefined && owner.namespace === me.namespace && owner.name === me.name) {
    // The same object, restored from a backup or re-created: it keeps its database or user.
    await client.transferOwner(what, key, me);
    return { owned: true, adopted: false, restored: true };
  }
  if (owner !== undefined) return { halt: conflict(what, key, claimant, owner) };

  const exists = await existsOnServer();
  const clusterNamespace = access.intent.key.namespace;
  if (exists && !mayAdopt(access.intent.tenancy, clusterNamespace, claimant.namespace)) {
    return {
      halt: {
        ready: false,
        reason: 'AdoptionNotAllowed',
        message: `${what} ${key} already exists on the server and no object owns it; only objects in namespace ${clusterNamespace} (or in the cluster's spec.allowedNamespaces.adoptFrom) may adopt it`,
      },
    };
  }
  const recorded = await client.claimOwner(what, key, me);
  if (recorded.uid !== me.uid) return { halt: conflict(what, key, claimant, recorded) };
  return { owned: true, adopted: exists, restored: false };
}

function conflict(what: OwnedKind, key: string, claimant: Claimant, owner: { namespace: string; name: string }): Readiness {
  // Another tenant's object names are not told to this one.
  const by = owner.namespace === claimant.namespace ? `${claimant.kind} ${owner.namespace}/${owner.name}` : 'an object in another namespace';
  return { ready: false, reason: 'Conflict', message: `${what} ${key} is already owned by ${by}; nothing was changed` };
}
