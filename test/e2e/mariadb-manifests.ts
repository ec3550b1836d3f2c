// A single MariaDB server as a plain StatefulSet with its Services, the way a
// user runs one without the operator: the server e2e tests connect to.
import { mariadbImageName } from '../env/images/images.ts';

export interface MariaDBServerOptions {
  namespace: string;
  /** The app.kubernetes.io/instance label, so that two servers never share selectors. */
  instance: string;
  /** Where the root password is (MARIADB_ROOT_PASSWORD). */
  rootPassword: { secret: string; key: string };
  /** More variables of the image's entrypoint, e.g. MARIADB_DATABASE. */
  env?: { name: string; value: string }[];
}

/** A headless Service, the `mariadb` Service that clients use, and the StatefulSet `mariadb`. */
export function mariadbServerManifests(options: MariaDBServerOptions): object[] {
  const { namespace } = options;
  const labels = { 'app.kubernetes.io/name': 'mariadb', 'app.kubernetes.io/instance': options.instance };
  return [
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'mariadb-headless', namespace },
      spec: { clusterIP: 'None', selector: labels, ports: [{ name: 'mysql', port: 3306 }] },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'mariadb', namespace },
      spec: { selector: labels, ports: [{ name: 'mysql', port: 3306, targetPort: 3306 }] },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'mariadb', namespace },
      spec: {
        serviceName: 'mariadb-headless',
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            terminationGracePeriodSeconds: 5,
            containers: [
              {
                name: 'mariadb',
                image: mariadbImageName,
                imagePullPolicy: 'IfNotPresent',
                env: [
                  { name: 'MARIADB_ROOT_PASSWORD', valueFrom: { secretKeyRef: { name: options.rootPassword.secret, key: options.rootPassword.key } } },
                  ...(options.env ?? []),
                ],
                ports: [{ name: 'mysql', containerPort: 3306 }],
                readinessProbe: { tcpSocket: { port: 3306 }, periodSeconds: 1 },
                volumeMounts: [{ name: 'data', mountPath: '/var/lib/mysql' }],
              },
            ],
            // No storage provisioner in the local cluster; the data outlives nothing but the test.
            volumes: [{ name: 'data', emptyDir: {} }],
          },
        },
      },
    },
  ];
}
