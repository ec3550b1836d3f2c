// The one definition of the labels a managed cluster's objects carry and of
// the selectors that find them. Everything that selects pods (the
// StatefulSet, the Services, the PodDisruptionBudgets, anti-affinity, the
// operator's informers) takes its selector from here, so they cannot drift.

/** The value of app.kubernetes.io/managed-by on everything the operator creates. */
export const managedBy = 'flightdeck-operator';

export const labelKeys = {
  name: 'app.kubernetes.io/name',
  instance: 'app.kubernetes.io/instance',
  managedBy: 'app.kubernetes.io/managed-by',
  cluster: 'flightdeck.t7.io/cluster',
  /** Set by the operator on each pod: writer | reader. Never in the pod template, so a new or restarted pod is never a writer by itself. */
  role: 'flightdeck.t7.io/role',
  /** "true" on pods eligible for the reader Service (healthy and within maxReaderLagSeconds). Set by the operator. */
  servesReads: 'flightdeck.t7.io/serves-reads',
} as const;

export type InstanceRole = 'writer' | 'reader';

export type Labels = Readonly<Record<string, string>>;

/**
 * Labels that pick out the pods of one cluster. The StatefulSet's selector
 * (immutable once created), so it holds only what never changes.
 */
export function selectorLabels(cluster: string): Labels {
  return { [labelKeys.name]: 'mariadb', [labelKeys.instance]: cluster, [labelKeys.cluster]: cluster };
}

/** Labels of every object of a cluster: its selector labels and who manages it. */
export function clusterLabels(cluster: string): Labels {
  return { ...selectorLabels(cluster), [labelKeys.managedBy]: managedBy };
}

/** The writer Service's selector: the one pod the operator labelled writer. */
export function writerSelector(cluster: string): Labels {
  return { ...selectorLabels(cluster), [labelKeys.role]: 'writer' };
}

/** The reader Service's selector: pods the operator found fit to serve reads. */
export function readerServiceSelector(cluster: string): Labels {
  return { ...selectorLabels(cluster), [labelKeys.servesReads]: 'true' };
}

/** The readers' PodDisruptionBudget selector. */
export function readerSelector(cluster: string): Labels {
  return { ...selectorLabels(cluster), [labelKeys.role]: 'reader' };
}

/**
 * The role labels the operator sets on one pod. `servesReads` false removes
 * the label rather than writing "false", so that the reader Service's
 * selector has one value to match.
 */
export function roleLabels(role: InstanceRole, servesReads: boolean): Labels {
  return { [labelKeys.role]: role, ...(servesReads ? { [labelKeys.servesReads]: 'true' } : {}) };
}

export { sameLabels } from '../../../../runtime/labels.ts';

/** Whether `labels` holds every key and value of `subset` (how a selector matches). */
export function hasLabels(labels: Labels | undefined, subset: Labels): boolean {
  const actual = labels ?? {};
  return Object.entries(subset).every(([key, value]) => actual[key] === value);
}

/** A label selector as a string for list and watch requests: "a=b,c=d". */
export function selectorString(selector: Labels): string {
  return Object.entries(selector)
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
}
