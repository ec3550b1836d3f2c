// Schema pieces shared by the three kinds: the reference to a cluster, Secret
// references, deletion policy, and the status conditions.
import * as s from './schema.ts';

export const group = 'flightdeck.t7.io';
export const version = 'v1';
export const apiVersion = `${group}/${version}`;

/** A Kubernetes object name (DNS-1123 subdomain). */
export const objectName = (description: string): s.Schema<string> =>
  s.string({
    description,
    minLength: 1,
    maxLength: 253,
    pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
  });

/** A namespace name (DNS-1123 label). */
export const namespaceName = (description: string): s.Schema<string> =>
  s.string({ description, minLength: 1, maxLength: 63, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' });

export const clusterReference = s.object(
  {
    name: objectName('Name of the MySQLCluster.'),
    namespace: namespaceName(
      "Namespace of the MySQLCluster. Defaults to this object's namespace. The cluster must admit this object's namespace (spec.allowedNamespaces).",
    ),
  },
  {
    description: 'The MySQLCluster that holds this object. Cannot be changed after creation.',
    required: ['name'],
    validations: [
      {
        rule: 'self == oldSelf',
        message: 'cluster cannot be changed after creation; create a new object for another cluster',
      },
    ],
  },
);
export type ClusterReference = s.TypeOf<typeof clusterReference>;

export const secretKeyReference = (description: string, defaultKey: string) =>
  s.object(
    {
      name: objectName('Name of the Secret, in the same namespace as this object.'),
      key: s.string({
        description: `Key within the Secret. Defaults to "${defaultKey}".`,
        default: defaultKey,
        minLength: 1,
        maxLength: 253,
        pattern: '^[-._a-zA-Z0-9]+$',
      }),
    },
    { description, required: ['name'] },
  );

export const deletionPolicies = ['Retain', 'Delete'] as const;
export type DeletionPolicy = (typeof deletionPolicies)[number];

export const condition = s.object(
  {
    type: s.string({ description: 'Type of condition, in CamelCase: Ready, Conflict, …', maxLength: 316 }),
    status: s.enumeration(['True', 'False', 'Unknown'] as const, { description: 'Status of the condition.' }),
    reason: s.string({
      description: "Machine-readable CamelCase reason for the condition's last transition.",
      maxLength: 1024,
    }),
    message: s.string({ description: 'Human-readable message with details of the transition.', maxLength: 32768 }),
    lastTransitionTime: s.string({
      description: 'When the condition last changed from one status to another.',
      format: 'date-time',
    }),
    observedGeneration: s.integer({
      description: 'The metadata.generation the condition was set for.',
      minimum: 0,
    }),
  },
  {
    description: 'One aspect of the current state, as Kubernetes conditions are written.',
    required: ['type', 'status', 'reason', 'message', 'lastTransitionTime'],
  },
);
export type Condition = s.TypeOf<typeof condition>;

export const conditions = s.array(condition, {
  description: 'Latest observations of the object. "Ready" says whether it matches its spec, and if not, why.',
  maxItems: 16,
});

export const observedGeneration = s.integer({
  description: 'The metadata.generation that the operator last reconciled.',
  minimum: 0,
});

/** The metadata fields the operator reads; the API server fills in the rest. */
export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  deletionTimestamp?: string;
  creationTimestamp?: string;
}

/** A custom resource with typed spec and status. */
export interface Resource<Kind extends string, Spec, Status> {
  apiVersion: typeof apiVersion;
  kind: Kind;
  metadata: ObjectMeta;
  spec: Spec;
  status?: Status;
}
