// The Helm chart (charts/flightdeck-operator), with helm built from its Go
// module: it lints, renders with the default values and with every option
// set, refuses values its schema does not allow with a message that names the
// value, and what it renders is accepted by a real kube-apiserver. Its RBAC is
// pinned to an allow-list here, and is shown to be enough by running the
// operator as the chart's ServiceAccount.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as mariadb from 'mariadb';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { escapeTemplateActions } from '../../src/api/chart-crds.ts';
import { customResourceDefinition, kinds } from '../../src/api/crds.ts';
import { parseOperatorSettings } from '../../src/cli/operator.ts';
import { externalClusterManifests } from '../env/external-cluster.ts';
import { chartDir, crdNames, helm, helmDir, helmResult, labelCrdsForHelm } from '../env/helmbuild/helm.ts';
import { kubectl, kubectlResult, waitForReady, type KubectlTarget } from '../env/kubectl.ts';
import { startOperator, stopOperator, type OperatorProcess } from '../env/operator.ts';
import { repoRoot } from '../env/paths.ts';
import { serviceAccountKubeconfig } from '../env/service-account.ts';
import { startTestEnvironment, stopTestEnvironment, testEnvironment, type TestEnvironment } from '../env/shared.ts';

// At the top level, so that an environment of this file's own lives as long as the file.
const k: KubectlTarget = (await testEnvironment()).controlPlane;

const scratch = mkdtempSync(join(tmpdir(), 'flightdeck-chart-'));
after(() => {
  rmSync(scratch, { recursive: true, force: true });
});

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

interface Container {
  name: string;
  image: string;
  imagePullPolicy: string;
  args: string[];
  env: { name: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  ports: { name: string; containerPort: number }[];
  livenessProbe: Record<string, unknown> & { httpGet: { path: string; port: string } };
  readinessProbe: Record<string, unknown> & { httpGet: { path: string; port: string } };
  resources: unknown;
  securityContext: unknown;
}

interface PodSpec {
  serviceAccountName: string;
  securityContext: unknown;
  containers: Container[];
  imagePullSecrets?: { name: string }[];
  priorityClassName?: string;
  terminationGracePeriodSeconds: number;
  nodeSelector?: unknown;
  tolerations?: unknown;
  affinity?: unknown;
  topologySpreadConstraints?: unknown;
}

interface Deployment extends Manifest {
  spec: {
    replicas: number;
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string>; annotations?: Record<string, string> }; spec: PodSpec };
  };
}

let fileCounter = 0;

/** Writes `values` to a file of its own for `-f`. */
function valuesFile(values: unknown): string {
  const file = join(scratch, `values-${++fileCounter}.yaml`);
  writeFileSync(file, stringify(values));
  return file;
}

function templateArgs(release: string, namespace: string, values: unknown): string[] {
  return ['template', release, chartDir, '--namespace', namespace, ...(values === undefined ? [] : ['-f', valuesFile(values)])];
}

/** `helm template` of the chart, as YAML text. */
function renderText(release: string, namespace: string, values?: unknown): string {
  return helm(templateArgs(release, namespace, values));
}

function render(release: string, namespace: string, values?: unknown): Manifest[] {
  return parseAllDocuments(renderText(release, namespace, values))
    .map((document) => document.toJS() as Manifest | null)
    .filter((manifest): manifest is Manifest => manifest !== null);
}

function only(manifests: readonly Manifest[], kind: string): Manifest {
  const found = manifests.filter((m) => m.kind === kind);
  const [first] = found;
  assert.ok(found.length === 1 && first !== undefined, `expected one ${kind}, found ${found.length}`);
  return first;
}

function deploymentOf(manifests: readonly Manifest[]): Deployment {
  return only(manifests, 'Deployment') as Deployment;
}

function operatorContainer(manifests: readonly Manifest[]): Container {
  const container = deploymentOf(manifests).spec.template.spec.containers[0];
  assert.ok(container);
  return container;
}

/** Every leaf of a values tree as a dotted path; an empty map or list counts as a leaf. */
function leafPaths(value: unknown, prefix = ''): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || Object.keys(value).length === 0) return [prefix];
  return Object.entries(value).flatMap(([key, child]) => leafPaths(child, prefix === '' ? key : `${prefix}.${key}`));
}

function hasPath(value: unknown, path: string): boolean {
  let node = value;
  for (const key of path.split('.')) {
    if (node === null || typeof node !== 'object' || !(key in node)) return false;
    node = (node as Record<string, unknown>)[key];
  }
  return true;
}

let namespaceCounter = 0;
function freshNamespace(prefix: string, labels: Record<string, string> = {}): string {
  const name = `${prefix}-${process.pid}-${++namespaceCounter}`;
  kubectl(k, ['create', 'namespace', name]);
  if (Object.keys(labels).length > 0) kubectl(k, ['label', 'namespace', name, ...Object.entries(labels).map(([key, value]) => `${key}=${value}`)]);
  return name;
}

const digest = `sha256:${'ab'.repeat(32)}`;

/**
 * Every value of values.yaml set (a test below checks that none is missing),
 * to something other than its default where the default would not show that
 * the value is used. The switches that remove objects are on here; they are
 * tested off one by one.
 */
const everyOption = {
  replicaCount: 3,
  image: { repository: 'registry.example/platform/flightdeck-operator', tag: '9.9.9', digest, pullPolicy: 'Always' },
  imagePullSecrets: [{ name: 'registry-credentials' }],
  nameOverride: 'fdo',
  fullnameOverride: 'db-operator',
  crds: { install: true },
  serviceAccount: { create: true, name: 'db-operator-account', annotations: { 'example.com/role': 'db-operator' } },
  rbac: { create: true },
  operator: {
    leaderElection: { enabled: true, leaseName: 'db-operator-leader' },
    resyncIntervalSeconds: 120.5,
    workers: 4,
    maxRetryDelaySeconds: 60,
    logLevel: 'debug',
    httpHost: '::',
    httpPort: 9090,
  },
  backups: { maxConcurrent: 5, jitterSeconds: 600 },
  podAnnotations: { 'example.com/owner': 'platform' },
  podLabels: { team: 'platform' },
  podSecurityContext: { runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001, seccompProfile: { type: 'RuntimeDefault' } },
  securityContext: {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    privileged: false,
    capabilities: { drop: ['ALL'] },
  },
  resources: { requests: { cpu: '100m', memory: '192Mi' }, limits: { cpu: '1', memory: '512Mi' } },
  livenessProbe: { initialDelaySeconds: 7, periodSeconds: 11, timeoutSeconds: 3, failureThreshold: 4 },
  readinessProbe: { initialDelaySeconds: 1, periodSeconds: 3, timeoutSeconds: 1, failureThreshold: 2 },
  terminationGracePeriodSeconds: 45,
  priorityClassName: 'platform-critical',
  nodeSelector: { 'kubernetes.io/os': 'linux' },
  tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'platform', effect: 'NoSchedule' }],
  affinity: {
    podAntiAffinity: {
      preferredDuringSchedulingIgnoredDuringExecution: [
        {
          weight: 100,
          podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'fdo' } } },
        },
      ],
    },
  },
  topologySpreadConstraints: [
    { maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'fdo' } } },
  ],
  service: { type: 'NodePort', port: 9443, annotations: { 'example.com/scrape': 'true' } },
  serviceMonitor: { enabled: true, labels: { release: 'prometheus' }, interval: '15s', scrapeTimeout: '5s' },
};

describe('the chart source', () => {
  it("Chart.yaml's appVersion is package.json's version", () => {
    const chart = parse(readFileSync(join(chartDir, 'Chart.yaml'), 'utf8')) as { appVersion: string };
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    assert.equal(chart.appVersion, pkg.version);
  });

  it('helm lint --strict passes, with the default values and with every option set', () => {
    for (const extra of [[], ['-f', valuesFile(everyOption)]]) {
      const result = helmResult(['lint', '--strict', chartDir, ...extra]);
      assert.equal(result.status, 0, `${result.stdout}${result.stderr}`);
      assert.match(result.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
    }
  });

  it('braces in a generated CRD would reach the cluster as written', () => {
    // The CRD templates are escaped (src/api/chart-crds.ts); this is helm reading the escape.
    const text = 'has({{ .Values.x }}) || self.a == "}}"';
    const chart = join(scratch, 'escape');
    mkdirSync(join(chart, 'templates'), { recursive: true });
    writeFileSync(join(chart, 'Chart.yaml'), 'apiVersion: v2\nname: escape\nversion: 0.0.1\n');
    writeFileSync(join(chart, 'templates', 'configmap.yaml'), `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n  rule: ${escapeTemplateActions(JSON.stringify(text))}\n`);
    const rendered = parse(helm(['template', 'r', chart])) as { data: { rule: string } };
    assert.equal(rendered.data.rule, text);
  });

  it('the values file of these tests sets every value of values.yaml', () => {
    const defaults = parse(readFileSync(join(chartDir, 'values.yaml'), 'utf8')) as unknown;
    assert.deepEqual(leafPaths(defaults).filter((path) => !hasPath(everyOption, path)), []);
  });
});

describe('rendering with the default values', () => {
  const manifests = render('flightdeck', 'flightdeck-system');

  it('renders the CRDs, ServiceAccount, RBAC, Deployment and metrics Service, and no ServiceMonitor', () => {
    const kindsRendered = manifests.map((m) => `${m.kind}/${m.metadata.name}`).sort();
    assert.deepEqual(kindsRendered, [
      'ClusterRole/flightdeck-flightdeck-operator',
      'ClusterRoleBinding/flightdeck-flightdeck-operator',
      'CustomResourceDefinition/mysqlbackups.flightdeck.t7.io',
      'CustomResourceDefinition/mysqlclusters.flightdeck.t7.io',
      'CustomResourceDefinition/mysqldatabases.flightdeck.t7.io',
      'CustomResourceDefinition/mysqlrestores.flightdeck.t7.io',
      'CustomResourceDefinition/mysqlusers.flightdeck.t7.io',
      'CustomResourceDefinition/volumebackups.flightdeck.t7.io',
      'CustomResourceDefinition/volumerestores.flightdeck.t7.io',
      'Deployment/flightdeck-flightdeck-operator',
      'Role/flightdeck-flightdeck-operator-leader-election',
      'RoleBinding/flightdeck-flightdeck-operator-leader-election',
      'Service/flightdeck-flightdeck-operator-metrics',
      'ServiceAccount/flightdeck-flightdeck-operator',
    ]);
    for (const m of manifests) {
      if (m.kind !== 'CustomResourceDefinition' && !m.kind.startsWith('Cluster')) assert.equal(m.metadata.namespace, 'flightdeck-system', `${m.kind} ${m.metadata.name}`);
    }
  });

  it('the CRDs are the ones src/api generates, kept on uninstall', () => {
    for (const kind of kinds) {
      const expected = customResourceDefinition(kind) as { metadata: { name: string }; spec: unknown };
      const crd = manifests.find((m) => m.kind === 'CustomResourceDefinition' && m.metadata.name === expected.metadata.name);
      assert.ok(crd, expected.metadata.name);
      assert.deepEqual(crd.spec, expected.spec);
      assert.equal(crd.metadata.annotations?.['helm.sh/resource-policy'], 'keep');
      assert.equal(crd.metadata.labels?.['app.kubernetes.io/part-of'], 'flightdeck-operator');
    }
  });

  it('the Deployment runs the image of the appVersion, leader election on, probes on the http port', () => {
    const deployment = deploymentOf(manifests);
    const container = operatorContainer(manifests);
    assert.equal(deployment.spec.replicas, 1);
    assert.equal(container.image, 'ghcr.io/t7/flightdeck-operator:0.1.0');
    assert.equal(container.imagePullPolicy, 'IfNotPresent');
    assert.deepEqual(container.ports, [{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
    assert.deepEqual(container.livenessProbe.httpGet, { path: '/healthz', port: 'http' });
    assert.deepEqual(container.readinessProbe.httpGet, { path: '/readyz', port: 'http' });
    assert.deepEqual(container.env, [{ name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } }]);
    assert.equal(deployment.spec.template.spec.serviceAccountName, 'flightdeck-flightdeck-operator');
  });

  it('the container is locked down: non-root, read-only root file system, no privileges, RuntimeDefault seccomp', () => {
    const pod = deploymentOf(manifests).spec.template.spec;
    assert.deepEqual(pod.securityContext, { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' } });
    assert.deepEqual(operatorContainer(manifests).securityContext, {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      privileged: false,
      capabilities: { drop: ['ALL'] },
    });
  });

  it("the Deployment's args are flags that `flightdeck operator` accepts, with its defaults", () => {
    const settings = parseOperatorSettings(operatorContainer(manifests).args, {});
    assert.deepEqual(
      { ...settings, identity: undefined },
      {
        kubeconfig: undefined,
        httpHost: '0.0.0.0',
        httpPort: 8080,
        leaderElect: true,
        leaseNamespace: 'flightdeck-system',
        leaseName: 'flightdeck-operator',
        identity: undefined,
        resyncIntervalMs: 300_000,
        workers: 32,
        maxRetryDelayMs: 30_000,
        logLevel: 'info',
        backups: { maxConcurrent: 2, jitterSeconds: 300 },
      },
    );
  });
});

describe('rendering with every option set', () => {
  const manifests = render('flightdeck', 'platform', everyOption);
  const deployment = deploymentOf(manifests);
  const pod = deployment.spec.template.spec;
  const container = operatorContainer(manifests);

  it('names, labels and the ServiceAccount follow the overrides', () => {
    assert.equal(deployment.metadata.name, 'db-operator');
    assert.deepEqual(deployment.spec.selector.matchLabels, { 'app.kubernetes.io/name': 'fdo', 'app.kubernetes.io/instance': 'flightdeck' });
    assert.equal(deployment.spec.template.metadata.labels.team, 'platform');
    assert.deepEqual(deployment.spec.template.metadata.annotations, { 'example.com/owner': 'platform' });
    const account = only(manifests, 'ServiceAccount');
    assert.equal(account.metadata.name, 'db-operator-account');
    assert.deepEqual(account.metadata.annotations, { 'example.com/role': 'db-operator' });
    assert.equal(pod.serviceAccountName, 'db-operator-account');
    for (const kind of ['ClusterRoleBinding', 'RoleBinding']) {
      assert.deepEqual(only(manifests, kind).subjects, [{ kind: 'ServiceAccount', name: 'db-operator-account', namespace: 'platform' }]);
    }
  });

  it('the pod spec carries the image, scheduling, resources and probe timings', () => {
    assert.equal(deployment.spec.replicas, 3);
    assert.equal(container.image, `registry.example/platform/flightdeck-operator@${digest}`);
    assert.equal(container.imagePullPolicy, 'Always');
    assert.deepEqual(pod.imagePullSecrets, [{ name: 'registry-credentials' }]);
    assert.equal(pod.priorityClassName, 'platform-critical');
    assert.equal(pod.terminationGracePeriodSeconds, 45);
    assert.deepEqual(pod.nodeSelector, everyOption.nodeSelector);
    assert.deepEqual(pod.tolerations, everyOption.tolerations);
    assert.deepEqual(pod.affinity, everyOption.affinity);
    assert.deepEqual(pod.topologySpreadConstraints, everyOption.topologySpreadConstraints);
    assert.deepEqual(pod.securityContext, everyOption.podSecurityContext);
    assert.deepEqual(container.securityContext, everyOption.securityContext);
    assert.deepEqual(container.resources, everyOption.resources);
    assert.deepEqual(container.ports, [{ name: 'http', containerPort: 9090, protocol: 'TCP' }]);
    assert.deepEqual(container.livenessProbe, { httpGet: { path: '/healthz', port: 'http' }, ...everyOption.livenessProbe });
    assert.deepEqual(container.readinessProbe, { httpGet: { path: '/readyz', port: 'http' }, ...everyOption.readinessProbe });
  });

  it("the operator's flags follow the values", () => {
    const settings = parseOperatorSettings(container.args, {});
    assert.equal(settings.httpHost, '::');
    assert.equal(settings.httpPort, 9090);
    assert.equal(settings.leaderElect, true);
    assert.equal(settings.leaseNamespace, 'platform');
    assert.equal(settings.leaseName, 'db-operator-leader');
    assert.equal(settings.resyncIntervalMs, 120_500);
    assert.equal(settings.workers, 4);
    assert.equal(settings.maxRetryDelayMs, 60_000);
    assert.equal(settings.logLevel, 'debug');
    assert.deepEqual(settings.backups, { maxConcurrent: 5, jitterSeconds: 600 });
    const role = only(manifests, 'Role') as Manifest & { rules: PolicyRule[] };
    assert.deepEqual(role.rules.find((r) => r.resourceNames !== undefined)?.resourceNames, ['db-operator-leader']);
  });

  it('the metrics Service and the ServiceMonitor point at the http port', () => {
    const service = only(manifests, 'Service') as Manifest & { spec: { type: string; ports: unknown[]; selector: unknown } };
    assert.equal(service.metadata.name, 'db-operator-metrics');
    assert.deepEqual(service.metadata.annotations, { 'example.com/scrape': 'true' });
    assert.equal(service.spec.type, 'NodePort');
    assert.deepEqual(service.spec.ports, [{ name: 'http-metrics', port: 9443, targetPort: 'http', protocol: 'TCP' }]);
    assert.deepEqual(service.spec.selector, deployment.spec.selector.matchLabels);
    const monitor = only(manifests, 'ServiceMonitor') as Manifest & { spec: { endpoints: unknown[]; selector: { matchLabels: unknown } } };
    assert.equal(monitor.apiVersion, 'monitoring.coreos.com/v1');
    assert.equal(monitor.metadata.labels?.release, 'prometheus');
    assert.deepEqual(monitor.spec.endpoints, [{ port: 'http-metrics', path: '/metrics', interval: '15s', scrapeTimeout: '5s' }]);
    assert.deepEqual(monitor.spec.selector.matchLabels, deployment.spec.selector.matchLabels);
  });
});

describe('switches that leave objects out', () => {
  it('crds.install=false leaves the CRDs out', () => {
    assert.equal(render('r', 'ns', { crds: { install: false } }).filter((m) => m.kind === 'CustomResourceDefinition').length, 0);
  });

  it('rbac.create=false leaves all RBAC out', () => {
    const kindsRendered = render('r', 'ns', { rbac: { create: false } }).map((m) => m.kind);
    for (const kind of ['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding']) assert.ok(!kindsRendered.includes(kind), kind);
  });

  it('serviceAccount.create=false uses the named account and creates none', () => {
    const manifests = render('r', 'ns', { serviceAccount: { create: false, name: 'existing' } });
    assert.equal(manifests.filter((m) => m.kind === 'ServiceAccount').length, 0);
    assert.equal(deploymentOf(manifests).spec.template.spec.serviceAccountName, 'existing');
  });

  it('leader election off: no Lease Role, and the flag says so', () => {
    const manifests = render('r', 'ns', { operator: { leaderElection: { enabled: false } } });
    assert.equal(manifests.filter((m) => m.kind === 'Role' || m.kind === 'RoleBinding').length, 0);
    assert.equal(parseOperatorSettings(operatorContainer(manifests).args, {}).leaderElect, false);
  });
});

/** Each case: values a user might write, and what helm must say. */
const refused: { what: string; values: unknown; message: RegExp }[] = [
  { what: 'an unknown top-level key', values: { replicas: 2 }, message: /at '': additional properties 'replicas' not allowed/ },
  { what: 'a misspelt operator setting', values: { operator: { worker: 2 } }, message: /at '\/operator': additional properties 'worker' not allowed/ },
  { what: 'an unknown pull policy', values: { image: { pullPolicy: 'Sometimes' } }, message: /at '\/image\/pullPolicy': value must be one of 'Always', 'IfNotPresent', 'Never'/ },
  { what: 'zero workers', values: { operator: { workers: 0 } }, message: /at '\/operator\/workers': minimum: got 0, want 1/ },
  { what: 'an unknown log level', values: { operator: { logLevel: 'verbose' } }, message: /at '\/operator\/logLevel': value must be one of 'trace', 'debug', 'info', 'warn', 'error'/ },
  { what: 'a replica count as text', values: { replicaCount: 'two' }, message: /at '\/replicaCount': got string, want integer/ },
  { what: 'a digest that is no digest', values: { image: { digest: 'latest' } }, message: /at '\/image\/digest': 'latest' does not match pattern/ },
  { what: 'a port out of range', values: { operator: { httpPort: 70000 } }, message: /at '\/operator\/httpPort': maximum: got 70,000, want 65,535/ },
  { what: 'a scrape interval that is no duration', values: { serviceMonitor: { interval: 'often' } }, message: /at '\/serviceMonitor\/interval': 'often' does not match pattern/ },
  { what: 'a probe field the chart sets itself', values: { livenessProbe: { httpGet: { path: '/' } } }, message: /at '\/livenessProbe': additional properties 'httpGet' not allowed/ },
];

describe('values the schema refuses', () => {
  for (const c of refused) {
    it(`refuses ${c.what}, naming the value`, () => {
      const result = helmResult(templateArgs('r', 'ns', c.values));
      assert.notEqual(result.status, 0, 'rendered although invalid');
      assert.match(result.stderr, /values don't meet the specifications of the schema/);
      assert.match(result.stderr, c.message);
    });
  }

  it('refuses several replicas without leader election, saying why', () => {
    const result = helmResult(templateArgs('r', 'ns', { replicaCount: 2, operator: { leaderElection: { enabled: false } } }));
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /replicaCount > 1 needs operator.leaderElection.enabled: true/);
  });
});

describe('the rendered manifests on a real kube-apiserver', () => {
  before(() => {
    // The Prometheus Operator's own CRD, so that the ServiceMonitor is checked against its real schema.
    kubectl(k, ['apply', '--server-side', '--force-conflicts', '--field-manager=flightdeck-test', '-f', join(helmDir(), 'monitoring.coreos.com_servicemonitors.yaml')]);
    kubectl(k, ['wait', '--for=condition=Established', '--timeout=60s', 'crd/servicemonitors.monitoring.coreos.com']);
  });

  for (const [what, values] of [
    ['the default values', undefined],
    ['every option set', everyOption],
  ] as const) {
    it(`pass a server-side dry run with ${what}`, () => {
      const namespace = freshNamespace('chart-dry-run');
      const result = kubectlResult(k, ['apply', '--dry-run=server', '-f', '-'], renderText('flightdeck', namespace, values));
      assert.equal(result.status, 0, result.stderr);
      // The test environment installed the CRDs with server-side apply; kubectl says so once per CRD. Nothing else is worth a warning.
      const warnings = result.stderr.split('\n').filter((line) => line.startsWith('Warning') && !line.includes('last-applied-configuration'));
      assert.deepEqual(warnings, []);
      const created = result.stdout.trim().split('\n');
      assert.ok(created.length >= 10, result.stdout);
      for (const line of created) assert.match(line, /\(server dry run\)$/);
    });

    it(`the operator pod meets the "restricted" Pod Security Standard with ${what}`, () => {
      const namespace = freshNamespace('chart-restricted', {
        'pod-security.kubernetes.io/enforce': 'restricted',
        'pod-security.kubernetes.io/enforce-version': 'latest',
      });
      const deployment = deploymentOf(render('flightdeck', namespace, values));
      // The PriorityClass of every-option values does not exist here, and Pod Security does not look at it.
      const spec: PodSpec = { ...deployment.spec.template.spec, priorityClassName: undefined };
      kubectl(k, ['create', 'serviceaccount', spec.serviceAccountName, '-n', namespace]);
      const pod = (podSpec: PodSpec): string =>
        stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'operator', namespace, labels: deployment.spec.template.metadata.labels }, spec: podSpec });
      const admitted = kubectlResult(k, ['create', '--dry-run=server', '-f', '-'], pod(spec));
      assert.equal(admitted.status, 0, admitted.stderr);

      // The check is real: the same pod without the container's securityContext is refused.
      const loose: PodSpec = { ...spec, containers: spec.containers.map((c) => ({ ...c, securityContext: {} })) };
      const refusedPod = kubectlResult(k, ['create', '--dry-run=server', '-f', '-'], pod(loose));
      assert.notEqual(refusedPod.status, 0);
      assert.match(refusedPod.stderr, /violates PodSecurity "restricted:latest"/);
    });
  }
});

/** One string per permission: group/resource[/name]: verb. */
function permissions(rules: readonly PolicyRule[]): string[] {
  return rules
    .flatMap((rule) => {
      assert.equal(rule.nonResourceURLs, undefined, 'no non-resource URLs');
      return (rule.apiGroups ?? []).flatMap((group) =>
        (rule.resources ?? []).flatMap((resource) =>
          (rule.resourceNames ?? ['']).flatMap((name) => rule.verbs.map((verb) => `${group === '' ? 'core' : group}/${resource}${name === '' ? '' : `/${name}`}: ${verb}`)),
        ),
      );
    })
    .sort();
}

describe('RBAC: least privilege', () => {
  const manifests = render('flightdeck', 'flightdeck-system');

  it('the ClusterRole grants exactly the allow-list', () => {
    // A new permission is a deliberate change: add it here, with why.
    const allowed = [
      // Informers cache MySQLClusters; status is written through the status subresource (server-side apply).
      'flightdeck.t7.io/mysqlclusters: list',
      'flightdeck.t7.io/mysqlclusters: watch',
      'flightdeck.t7.io/mysqlclusters/status: patch',
      // Informers, plus finalizers: read the object, then patch with its resourceVersion.
      'flightdeck.t7.io/mysqldatabases: get',
      'flightdeck.t7.io/mysqldatabases: list',
      'flightdeck.t7.io/mysqldatabases: patch',
      'flightdeck.t7.io/mysqldatabases: watch',
      'flightdeck.t7.io/mysqldatabases/status: patch',
      'flightdeck.t7.io/mysqlusers: get',
      'flightdeck.t7.io/mysqlusers: list',
      'flightdeck.t7.io/mysqlusers: patch',
      'flightdeck.t7.io/mysqlusers: watch',
      'flightdeck.t7.io/mysqlusers/status: patch',
      // Password and connection Secrets are owned by their MySQLUser with blockOwnerDeletion
      // (OwnerReferencesPermissionEnforcement admits that only to who may update the owner's finalizers).
      'flightdeck.t7.io/mysqlusers/finalizers: update',
      // Admin, password and connection Secrets: cached; passwords generated (create, get after a conflict); connection Secrets applied (patch).
      'core/secrets: create',
      'core/secrets: get',
      'core/secrets: list',
      'core/secrets: patch',
      'core/secrets: watch',
      // Namespace labels decide which clusters admit a namespace.
      'core/namespaces: list',
      'core/namespaces: watch',
      // Events on the objects; repeats are counted on the existing Event.
      'core/events: create',
      'core/events: patch',
      // Managed clusters. Their children are applied with server-side apply (patch; create, since an apply
      // creates what is missing), owned by the MySQLCluster with blockOwnerDeletion (hence its finalizers).
      'flightdeck.t7.io/mysqlclusters/finalizers: update',
      // The my.cnf ConfigMap: applied only.
      'core/configmaps: create',
      'core/configmaps: patch',
      // Headless, writer and reader Services, writer and reader PodDisruptionBudgets: applied only.
      'core/services: create',
      'core/services: patch',
      'policy/poddisruptionbudgets: create',
      'policy/poddisruptionbudgets: patch',
      // The StatefulSet: applied; read first for its claim template (which cannot change); cached (own label), so a deleted one is put back at once.
      'apps/statefulsets: create',
      'apps/statefulsets: get',
      'apps/statefulsets: list',
      'apps/statefulsets: patch',
      'apps/statefulsets: watch',
      // The instances' Pods: cached (own label); role labels applied (patch; never create: no bare Pods);
      // deleted to restart one (rolling restarts, a writer moved off a node before it drains).
      'core/pods: delete',
      'core/pods: list',
      'core/pods: patch',
      'core/pods: watch',
      // Data volumes: cached (own label), read and grown when spec.size grows, where their StorageClass allows expansion.
      'core/persistentvolumeclaims: get',
      'core/persistentvolumeclaims: list',
      'core/persistentvolumeclaims: patch',
      'core/persistentvolumeclaims: watch',
      'storage.k8s.io/storageclasses: get',
      // Nodes: cordoned or draining (move the writer away), not ready or gone (fail over), how many can hold an instance.
      'core/nodes: list',
      'core/nodes: watch',
      // Backups: cached; status written; the finalizer that drops a backup's Job account (read, then patch).
      'flightdeck.t7.io/mysqlbackups: get',
      'flightdeck.t7.io/mysqlbackups: list',
      'flightdeck.t7.io/mysqlbackups: patch',
      'flightdeck.t7.io/mysqlbackups: watch',
      'flightdeck.t7.io/mysqlbackups/status: patch',
      // Restores: cached; status written (a restore has no finalizer).
      'flightdeck.t7.io/mysqlrestores: list',
      'flightdeck.t7.io/mysqlrestores: watch',
      'flightdeck.t7.io/mysqlrestores/status: patch',
      // Their Jobs and account Secrets are owned by them with blockOwnerDeletion.
      'flightdeck.t7.io/mysqlbackups/finalizers: update',
      'flightdeck.t7.io/mysqlrestores/finalizers: update',
      // Files backups and restores: cached, status written, their Jobs owned with blockOwnerDeletion; no finalizer of their own.
      'flightdeck.t7.io/volumebackups: list',
      'flightdeck.t7.io/volumebackups: watch',
      'flightdeck.t7.io/volumebackups/status: patch',
      'flightdeck.t7.io/volumebackups/finalizers: update',
      'flightdeck.t7.io/volumerestores: list',
      'flightdeck.t7.io/volumerestores: watch',
      'flightdeck.t7.io/volumerestores/status: patch',
      'flightdeck.t7.io/volumerestores/finalizers: update',
      // The Jobs that back up and restore: created; cached (own label) to follow them and count running backups
      // against backups.maxConcurrent. Never deleted by the operator (owner deletion and ttlSecondsAfterFinished do).
      'batch/jobs: create',
      'batch/jobs: list',
      'batch/jobs: watch',
    ].sort();
    assert.deepEqual(permissions((only(manifests, 'ClusterRole') as Manifest & { rules: PolicyRule[] }).rules), allowed);
  });

  it('the Role grants the leader election Lease in the release namespace, and nothing else', () => {
    const role = only(manifests, 'Role') as Manifest & { rules: PolicyRule[] };
    assert.equal(role.metadata.namespace, 'flightdeck-system');
    assert.deepEqual(permissions(role.rules), [
      // A Lease is created when missing; create cannot be limited to a name.
      'coordination.k8s.io/leases: create',
      'coordination.k8s.io/leases/flightdeck-operator: get',
      'coordination.k8s.io/leases/flightdeck-operator: update',
    ].sort());
  });

});

describe('installed with helm on a real kube-apiserver, the operator running as its ServiceAccount', () => {
  // An environment of its own: the operator reconciles every namespace, and
  // would act on the objects of tests that share the environment.
  let env: TestEnvironment;
  let own: KubectlTarget;
  let operator: OperatorProcess | undefined;
  const release = { name: 'flightdeck', namespace: 'flightdeck-system' };
  const manifests = render(release.name, release.namespace);
  const account = only(manifests, 'ServiceAccount').metadata.name;
  const ownHelm = (args: readonly string[]): ReturnType<typeof helmResult> => helmResult([...args, '--namespace', release.namespace], { kubeconfig: own.kubeconfig });

  before(async () => {
    // Its CRDs are installed with kubectl (server-side apply), as config/crd/ users have them.
    env = await startTestEnvironment(1);
    own = env.controlPlane;
    kubectl(own, ['create', 'namespace', release.namespace]);
  });

  after(async () => {
    if (operator !== undefined) await stopOperator(operator);
    await stopTestEnvironment(env);
  });

  it('helm install takes over CRDs applied with kubectl once they are labelled as docs/chart.md says', () => {
    const refused = ownHelm(['install', release.name, chartDir]);
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /invalid ownership metadata/);
    labelCrdsForHelm(own, release);
    const installed = ownHelm(['install', release.name, chartDir]);
    assert.equal(installed.status, 0, installed.stderr);
    assert.match(installed.stdout, /kubectl get flightdeck -A/);
  });

  it('leads, reconciles a cluster, a database and a user, and drops them on deletion, without a single 403', async () => {
    // The operator with the installed ServiceAccount's token and the Deployment's flags.
    const kubeconfig = serviceAccountKubeconfig(own, release.namespace, account, join(env.dir, 'operator-kubeconfig'));
    // Except the listen address: here it must be loopback and a free port.
    const args = operatorContainer(manifests).args.filter((arg) => !arg.startsWith('--http-address'));
    operator = await startOperator({ kubeconfig, dir: env.dir, name: 'chart-operator', args });

    const server = env.mariadb[0];
    assert.ok(server);
    const api = 'flightdeck.t7.io/v1';
    const cluster = { name: 'shared', namespace: 'db-system' };
    for (const ns of ['db-system', 'site-a']) kubectl(own, ['create', 'namespace', ns]);
    const objects = [
      ...externalClusterManifests(server, cluster),
      { apiVersion: api, kind: 'MySQLDatabase', metadata: { name: 'shop', namespace: 'site-a' }, spec: { cluster, deletionPolicy: 'Delete' } },
      {
        apiVersion: api,
        kind: 'MySQLUser',
        metadata: { name: 'shop', namespace: 'site-a' },
        spec: { cluster, deletionPolicy: 'Delete', privileges: [{ database: 'shop', grant: 'ALL' }] },
      },
    ];
    kubectl(own, ['apply', '-f', '-'], objects.map((o) => stringify(o)).join('---\n'));
    await waitForReady(own, 'mysqlcluster', 'db-system', 'shared');
    await waitForReady(own, 'mysqldatabase', 'site-a', 'shop');
    await waitForReady(own, 'mysqluser', 'site-a', 'shop');

    // Secrets created (password) and applied (connection), owned by the user.
    for (const name of ['shop-password', 'shop-connection']) {
      const secret = JSON.parse(kubectl(own, ['get', 'secret', name, '-n', 'site-a', '-o', 'json'])) as Manifest & {
        metadata: { ownerReferences?: { kind: string; name: string }[] };
      };
      assert.deepEqual(secret.metadata.ownerReferences?.map((o) => `${o.kind}/${o.name}`), ['MySQLUser/shop'], name);
    }
    const events = kubectl(own, ['get', 'events', '-n', 'site-a', '-o', 'jsonpath={range .items[*]}{.involvedObject.kind}/{.reason}{"\\n"}{end}']);
    assert.match(events, /MySQLUser\/Created/);
    const lease = JSON.parse(kubectl(own, ['get', 'lease', 'flightdeck-operator', '-n', release.namespace, '-o', 'json'])) as { spec: { holderIdentity: string } };
    assert.notEqual(lease.spec.holderIdentity, '');

    // Deletion: the finalizers are removed once the user and database are dropped.
    kubectl(own, ['delete', 'mysqluser/shop', 'mysqldatabase/shop', '-n', 'site-a', '--wait', '--timeout=60s']);
    const admin = await mariadb.createConnection({ host: server.host, port: server.port, user: server.adminUser, password: server.adminPassword });
    try {
      assert.deepEqual(await admin.query('SELECT User FROM mysql.global_priv WHERE User = ?', ['shop']), []);
      assert.deepEqual(await admin.query('SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', ['shop']), []);
    } finally {
      await admin.end();
    }

    assert.ok(operator);
    assert.doesNotMatch(readFileSync(operator.logFile, 'utf8'), /HTTP 403|forbidden/i);
  });

  it('may not touch Leases outside its namespace, nor delete anything', () => {
    const user = `system:serviceaccount:${release.namespace}:${account}`;
    const can = (...args: string[]): string => kubectlResult(own, ['auth', 'can-i', ...args, `--as=${user}`]).stdout.trim();
    assert.equal(can('update', 'leases', '-n', 'kube-system'), 'no');
    assert.equal(can('get', 'leases/other', '-n', release.namespace), 'no');
    assert.equal(can('delete', 'secrets', '-n', 'site-a'), 'no');
    assert.equal(can('delete', 'mysqldatabases.flightdeck.t7.io', '-n', 'site-a'), 'no');
    assert.equal(can('update', 'mysqlclusters.flightdeck.t7.io', '-n', 'db-system'), 'no');
    assert.equal(can('patch', 'mysqlclusters.flightdeck.t7.io', '--subresource=status', '-n', 'db-system'), 'yes');
  });

  it('helm upgrade changes the CRDs in place; helm uninstall keeps them and every object; a new install takes them back', async () => {
    if (operator !== undefined) await stopOperator(operator);
    operator = undefined;
    const description = (): string =>
      kubectl(own, ['get', 'crd', 'mysqlclusters.flightdeck.t7.io', '-o', 'jsonpath={.spec.versions[0].schema.openAPIV3Schema.description}']);

    // A later chart whose CRD says something new: helm upgrade applies it (files in crds/ would never change).
    const later = join(scratch, 'later-chart');
    cpSync(chartDir, later, { recursive: true });
    const template = join(later, 'templates/crds/flightdeck.t7.io_mysqlclusters.yaml');
    const text = readFileSync(template, 'utf8');
    const changed = text.replace('MySQLUsers attach to it."', 'MySQLUsers attach to it. (later)"');
    assert.notEqual(changed, text);
    writeFileSync(template, changed);
    const upgraded = ownHelm(['upgrade', release.name, later, '--set', 'operator.logLevel=debug']);
    assert.equal(upgraded.status, 0, upgraded.stderr);
    assert.match(description(), / \(later\)$/);
    const deployment = JSON.parse(kubectl(own, ['get', 'deployment', only(manifests, 'Deployment').metadata.name, '-n', release.namespace, '-o', 'json'])) as Deployment;
    assert.ok(deployment.spec.template.spec.containers[0]?.args.includes('--log-level=debug'));

    const uninstalled = ownHelm(['uninstall', release.name]);
    assert.equal(uninstalled.status, 0, uninstalled.stderr);
    assert.match(uninstalled.stdout, /These resources were kept due to the resource policy:/);
    for (const crd of crdNames) assert.equal(kubectlResult(own, ['get', 'crd', crd]).status, 0, `${crd} was deleted`);
    assert.equal(kubectlResult(own, ['get', 'mysqlcluster', 'shared', '-n', 'db-system']).status, 0, 'the MySQLCluster was deleted');
    assert.notEqual(kubectlResult(own, ['get', 'clusterrole', only(manifests, 'ClusterRole').metadata.name]).status, 0, 'the ClusterRole was kept');

    const reinstalled = ownHelm(['install', release.name, chartDir]);
    assert.equal(reinstalled.status, 0, reinstalled.stderr);
    assert.doesNotMatch(description(), /\(later\)/);
  });
});
