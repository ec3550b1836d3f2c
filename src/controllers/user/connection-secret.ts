// The Secret applications read to connect: a pure builder (spec in, manifest
// out), unit-tested without a cluster.
import type { PrivilegeIntent } from '../../api/normalize.ts';
import type { SecretObject } from '../context.ts';

export interface ConnectionSecretInput {
  name: string;
  namespace: string;
  owner: { apiVersion: string; kind: string; name: string; uid: string; controller: boolean; blockOwnerDeletion: boolean };
  labels: Record<string, string>;
  host: string;
  port: number;
  username: string;
  password: string;
  privileges: readonly PrivilegeIntent[];
}

/** The one database the user has privileges on, when there is exactly one (then apps need not be told). */
export function soleDatabase(privileges: readonly PrivilegeIntent[]): string | undefined {
  const databases = new Set(privileges.filter((p) => p.database !== '*').map((p) => p.database));
  return databases.size === 1 && !privileges.some((p) => p.database === '*') ? [...databases][0] : undefined;
}

export function connectionSecret(input: ConnectionSecretInput): SecretObject & { apiVersion: string; kind: string } {
  const database = soleDatabase(input.privileges);
  const authority = `${encodeURIComponent(input.username)}:${encodeURIComponent(input.password)}@${input.host.includes(':') ? `[${input.host}]` : input.host}:${input.port}`;
  const values: Record<string, string> = {
    host: input.host,
    port: String(input.port),
    username: input.username,
    password: input.password,
    ...(database === undefined ? {} : { database }),
    uri: `mysql://${authority}/${database === undefined ? '' : encodeURIComponent(database)}`,
  };
  const data = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: input.name, namespace: input.namespace, labels: input.labels, ownerReferences: [input.owner] },
    type: 'Opaque',
    data,
  };
}

/** Whether two Secrets' data hold the same keys and values. */
export function secretDataEqual(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  const left = a ?? {};
  const right = b ?? {};
  const keys = new Set([...Object.keys(left), ...Object.keys(right)]);
  for (const key of keys) if (left[key] !== right[key]) return false;
  return true;
}
