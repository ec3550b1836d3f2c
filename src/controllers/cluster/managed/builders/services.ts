// The three Services of a managed cluster. The selectors carry the whole
// routing decision: the operator moves the writer and reader labels between
// pods (labels.ts), and the Services follow without being rewritten.
import { clusterLabels, readerServiceSelector, selectorLabels, writerSelector, type Labels } from './labels.ts';
import { mariadbContainer, type ClusterNames } from './names.ts';
import { childMetadata, type ChildMetadata, type ClusterOwner } from './owner.ts';

export interface ServiceManifest {
  apiVersion: 'v1';
  kind: 'Service';
  metadata: ChildMetadata;
  spec: {
    type: 'ClusterIP';
    clusterIP?: 'None';
    publishNotReadyAddresses?: boolean;
    selector: Record<string, string>;
    ports: { name: string; port: number; targetPort: string; protocol: 'TCP' }[];
  };
}

function service(owner: ClusterOwner, name: string, selector: Labels, port: number, headless: boolean): ServiceManifest {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: childMetadata(owner, name, clusterLabels(owner.name)),
    spec: {
      type: 'ClusterIP',
      ...(headless ? { clusterIP: 'None' as const, publishNotReadyAddresses: true } : {}),
      selector: { ...selector },
      ports: [{ name: mariadbContainer.portName, port, targetPort: mariadbContainer.portName, protocol: 'TCP' }],
    },
  };
}

/**
 * The headless Service that gives each pod its DNS name
 * (`<pod>.<cluster>-instances.<namespace>.svc`), ready or not: readers reach
 * the writer by it, a new instance is seeded through it before it is ready,
 * and the operator connects to each instance by it.
 */
export function instancesService(owner: ClusterOwner, names: ClusterNames): ServiceManifest {
  return service(owner, names.instancesService, selectorLabels(owner.name), mariadbContainer.port, true);
}

/** The Service applications write through: only the pod labelled writer, never two. */
export function writerService(owner: ClusterOwner, names: ClusterNames, port: number): ServiceManifest {
  return service(owner, names.writerService, writerSelector(owner.name), port, false);
}

/** The Service for reads: pods the operator marked as serving reads (healthy readers within the lag limit; the writer when there are none). */
export function readerService(owner: ClusterOwner, names: ClusterNames, port: number): ServiceManifest {
  return service(owner, names.readerService, readerServiceSelector(owner.name), port, false);
}
