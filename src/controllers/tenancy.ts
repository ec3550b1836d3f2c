// The rules that keep tenants (one namespace per site) apart on a shared
// cluster. Pure functions: the controllers gather the facts (labels of the
// namespace, who owns which database on the server) and ask these.
import type { NamespaceSelector, PrivilegeIntent, TenancyPolicy } from '../api/normalize.ts';
import { systemDatabases } from '../mysql/identifiers.ts';
import { administrativePrivileges } from '../mysql/privileges.ts';

/** Whether `selector` matches a namespace with `labels` (Kubernetes label-selector semantics). */
export function selectorMatches(selector: NamespaceSelector, labels: Readonly<Record<string, string>>): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[key] !== value) return false;
  }
  for (const expression of selector.matchExpressions ?? []) {
    const value = labels[expression.key];
    const values = expression.values ?? [];
    switch (expression.operator) {
      case 'In':
        if (value === undefined || !values.includes(value)) return false;
        break;
      case 'NotIn':
        if (value !== undefined && values.includes(value)) return false;
        break;
      case 'Exists':
        if (value === undefined) return false;
        break;
      case 'DoesNotExist':
        if (value !== undefined) return false;
        break;
      default:
        // An operator we do not know admits nobody rather than everybody.
        return false;
    }
  }
  return true;
}

/**
 * Whether objects in `namespace` may attach to a cluster in `clusterNamespace`
 * under `policy`. `labels` are the labels of `namespace` (undefined when the
 * namespace is not known, which a selector never matches).
 */
export function namespaceAllowed(
  policy: TenancyPolicy,
  clusterNamespace: string,
  namespace: string,
  labels: Readonly<Record<string, string>> | undefined,
): boolean {
  if (namespace === clusterNamespace) return true;
  switch (policy.from) {
    case 'Same':
      return false;
    case 'All':
      return true;
    case 'Selector':
      return labels !== undefined && policy.selector !== undefined && selectorMatches(policy.selector, labels);
  }
}

/** Whether an object in `namespace` may take over a database or user that exists and that no object owns. */
export function mayAdopt(policy: TenancyPolicy, clusterNamespace: string, namespace: string): boolean {
  return namespace === clusterNamespace || policy.adoptFrom.includes(namespace);
}

/** The violation for a database that no MySQLDatabase of `namespace` owns (the one a user may wait out). */
export function notOwnedViolation(database: string, namespace: string): string {
  return `database ${database} is not owned by a MySQLDatabase in namespace ${namespace}`;
}

/**
 * Why the declared privileges are refused for a user in `namespace`, or an
 * empty list when they are allowed. The cluster's own namespace is the
 * operator's administrator and may declare anything. A tenant may only get
 * database privileges, without GRANT OPTION, on databases that its own
 * namespace owns (`ownerNamespaceOf` tells who owns a database on the server).
 */
export function privilegeViolations(
  privileges: readonly PrivilegeIntent[],
  namespace: string,
  clusterNamespace: string,
  ownerNamespaceOf: (database: string) => string | undefined,
): string[] {
  if (namespace === clusterNamespace) return [];
  const violations: string[] = [];
  for (const p of privileges) {
    const on = `${p.database}.${p.table}`;
    if (p.database === '*') {
      violations.push(`privileges on all databases (${on}) are reserved for users in namespace ${clusterNamespace}`);
      continue;
    }
    if (systemDatabases.includes(p.database)) {
      violations.push(`database ${p.database} is a system database`);
      continue;
    }
    const admin = p.privileges.filter((name) => administrativePrivileges.includes(name));
    if (admin.length > 0) violations.push(`${admin.join(', ')} on ${on}: administrative privileges are reserved for users in namespace ${clusterNamespace}`);
    if (p.withGrantOption) violations.push(`GRANT OPTION on ${on} is reserved for users in namespace ${clusterNamespace}`);
    const owner = ownerNamespaceOf(p.database);
    if (owner !== namespace) {
      violations.push(notOwnedViolation(p.database, namespace));
    }
  }
  return violations;
}
