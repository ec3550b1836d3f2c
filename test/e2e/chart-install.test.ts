// What issue 4 promises a user, on the local cluster with real pods: the Helm
// chart installs the operator from the image built from this checkout; an
// external MySQLCluster on a MariaDB StatefulSet (reached by its Service's DNS
// name), a MySQLDatabase and a MySQLUser become Ready; an application pod
// connects with the user's connection Secret and writes a row; `helm upgrade`
// rolls the operator with one move of the Lease and leaves nothing
// unreconciled; `helm uninstall` keeps the CRDs, the objects and the data.
//
// The tests depend on each other in order, like the steps of a user's session.
// Timings are printed as `# chart e2e: …` lines.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import { importIntoNodes } from '../env/cluster/cluster.ts';
import { e2eCluster, e2eClusterVariable } from '../env/cluster/shared.ts';
import { chartDir, helmDir, helmResult } from '../env/helmbuild/helm.ts';
import { imageCacheDir } from '../env/images/cache.ts';
import { mariadbImageName, operatorImage, operatorImageName } from '../env/images/images.ts';
import { mariadbServerManifests } from './mariadb-manifests.ts';
import { kubectl, kubectlResult, waitForReady } from '../env/kubectl.ts';

const fileStarted = performance.now();
const ownCluster = process.env[e2eClusterVariable] === undefined;
// Registered before e2eCluster() registers its own teardown, so that it runs first and the cluster's stop is not counted.
after(() => {
  note(`this file${ownCluster ? ', its own cluster start included' : ' (shared cluster)'}`, performance.now() - fileStarted);
});
const cluster = await e2eCluster();
const plane = cluster.controlPlane;
if (ownCluster) note('local cluster of this file started', performance.now() - fileStarted);
// At the top level, outside any test's timeout: a cold build of helm takes minutes.
const helmStarted = performance.now();
helmDir();
note('helm built or found in the cache', performance.now() - helmStarted);

/** One measurement, on stdout for the test log and the reader of the run. */
function note(what: string, ms: number): void {
  process.stdout.write(`# chart e2e: ${what}: ${(ms / 1000).toFixed(1)} s\n`);
}

const release = { name: 'flightdeck', namespace: 'flightdeck-system' };
// helm's defaults for this release name: <release>-<chart> unless the release name contains the chart name.
const deploymentName = 'flightdeck-flightdeck-operator';
const podSelector = `app.kubernetes.io/name=flightdeck-operator,app.kubernetes.io/instance=${release.name}`;
const leaseName = 'flightdeck-operator';
const dbNamespace = 'db-system';
const siteNamespace = 'site-a';
const serviceHost = `mariadb.${dbNamespace}.svc.cluster.local`;
const rootPassword = randomBytes(12).toString('base64url');
const api = 'flightdeck.t7.io/v1';
const clusterRef = { name: 'shared', namespace: dbNamespace };
const crdNames = ['mysqlclusters', 'mysqldatabases', 'mysqlusers'].map((plural) => `${plural}.flightdeck.t7.io`);

const imageRepository = operatorImageName.slice(0, operatorImageName.lastIndexOf(':'));
const imageTag = operatorImageName.slice(operatorImageName.lastIndexOf(':') + 1);
/** The chart's values as a user of a private image would set them; the rest stays at the chart's defaults. */
const imageValues = [
  '--set', `image.repository=${imageRepository}`,
  '--set-string', `image.tag=${imageTag}`,
  '--set', 'image.pullPolicy=IfNotPresent',
];

function releaseHelm(args: readonly string[]): string {
  const result = helmResult([...args, '--namespace', release.namespace], { kubeconfig: plane.kubeconfig });
  assert.equal(result.status, 0, `helm ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

function apply(objects: readonly unknown[]): void {
  kubectl(plane, ['apply', '--server-side', '--field-manager=flightdeck-e2e', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
}

async function eventually<T>(what: string, probe: () => T | undefined, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(200);
  }
}

interface Pod {
  metadata: { name: string; deletionTimestamp?: string };
  spec: { containers: { image: string; imagePullPolicy: string; args?: string[] }[] };
  status: {
    phase: string;
    conditions?: { type: string; status: string }[];
    containerStatuses?: { restartCount: number; ready: boolean }[];
  };
}

function operatorPods(): Pod[] {
  return (JSON.parse(kubectl(plane, ['get', 'pods', '-n', release.namespace, '-l', podSelector, '-o', 'json'])) as { items: Pod[] }).items;
}

function isReady(pod: Pod): boolean {
  return pod.metadata.deletionTimestamp === undefined && pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
}

interface LeaseSpec {
  holderIdentity?: string;
  leaseTransitions?: number;
}

function leaseSpec(): LeaseSpec | undefined {
  const result = kubectlResult(plane, ['get', 'lease', leaseName, '-n', release.namespace, '-o', 'json']);
  return result.status === 0 ? (JSON.parse(result.stdout) as { spec: LeaseSpec }).spec : undefined;
}

/** The operator's identity is `<pod name>-<pid>` (src/cli/operator.ts): the pod's name is what a user sees. */
function holdsLease(lease: LeaseSpec | undefined, pod: string): boolean {
  return lease?.holderIdentity?.startsWith(`${pod}-`) === true;
}

/** SQL as root in the MariaDB pod, the password taken from the container's own environment. */
function serverSql(sql: string): string {
  const result = kubectlResult(plane, [
    'exec', 'mariadb-0', '-n', dbNamespace, '--',
    'sh', '-c', 'MYSQL_PWD="$MARIADB_ROOT_PASSWORD" exec mariadb -uroot -N -B -e "$1"', 'sql', sql,
  ]);
  assert.equal(result.status, 0, `${sql}: ${result.stderr}`);
  return result.stdout.trim();
}

function database(name: string, collation = 'utf8mb4_unicode_ci'): unknown {
  return { apiVersion: api, kind: 'MySQLDatabase', metadata: { name, namespace: siteNamespace }, spec: { cluster: clusterRef, encoding: 'utf8mb4', collation } };
}

function collationOf(name: string): string {
  return serverSql(`SELECT DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '${name}'`);
}

function user(name: string): unknown {
  return {
    apiVersion: api,
    kind: 'MySQLUser',
    metadata: { name, namespace: siteNamespace },
    spec: { cluster: clusterRef, privileges: [{ database: name, grant: 'ALL' }] },
  };
}

/** Waits for each object's Ready=True and notes how long it took from `since`. */
async function readyTimes(what: string, since: number, objects: readonly [kind: string, namespace: string, name: string][]): Promise<void> {
  for (const [kind, namespace, name] of objects) {
    await waitForReady(plane, kind, namespace, name, { timeoutMs: 120_000 });
    note(`${what} ${kind} ${namespace}/${name} → Ready`, performance.now() - since);
  }
}

interface ListedObject {
  metadata: { namespace: string; name: string; generation: number };
  status?: { observedGeneration?: number; conditions?: { type: string; status: string; reason: string }[] };
}

/** Every MySQLCluster, MySQLDatabase and MySQLUser whose status does not say Ready=True for its current generation. */
function unreconciled(): string[] {
  return ['mysqlclusters', 'mysqldatabases', 'mysqlusers'].flatMap((kind) => {
    const list = JSON.parse(kubectl(plane, ['get', kind, '-A', '-o', 'json'])) as { items: ListedObject[] };
    return list.items.flatMap((object) => {
      const ready = object.status?.conditions?.find((c) => c.type === 'Ready');
      const { namespace, name, generation } = object.metadata;
      return ready?.status === 'True' && object.status?.observedGeneration === generation
        ? []
        : [`${kind} ${namespace}/${name}: generation ${generation}, observed ${object.status?.observedGeneration ?? '-'}, Ready ${ready?.status ?? '-'} ${ready?.reason ?? ''}`];
    });
  });
}

let leaderBeforeUpgrade = '';

describe('the Helm chart on the local cluster', () => {
  it('builds the operator image from this checkout and loads it into the node', async () => {
    const entries = (): string[] => (existsSync(imageCacheDir()) ? readdirSync(imageCacheDir()) : []).filter((e) => !e.includes('.tmp-'));
    const cached = new Set(entries());
    const started = performance.now();
    const image = await operatorImage();
    // Which cache entries this run had to build: none (warm), the sources' layer, or more (cold).
    const built = entries().filter((e) => !cached.has(e)).map((e) => e.replace(/-[0-9a-f]{16}$/, ''));
    note(`operator image, ${built.length === 0 ? 'warm (all cached)' : `built ${built.join(', ')}`}`, performance.now() - started);
    const importing = performance.now();
    await importIntoNodes(cluster, [image]);
    note('operator image imported into the node', performance.now() - importing);
  });

  it('helm install: the operator pod from the local image becomes Ready and leads', async () => {
    const started = performance.now();
    const out = releaseHelm(['install', release.name, chartDir, '--create-namespace', ...imageValues]);
    assert.match(out, /STATUS: deployed/);
    const pod = await eventually('a Ready operator pod', () => operatorPods().find(isReady));
    note('helm install → operator pod Ready', performance.now() - started);
    const container = pod.spec.containers[0];
    assert.equal(container?.image, operatorImageName);
    assert.equal(container.imagePullPolicy, 'IfNotPresent');
    assert.ok(container.args?.includes('--log-level=info'), JSON.stringify(container.args));
    await eventually(`${pod.metadata.name} to hold the Lease`, () => (holdsLease(leaseSpec(), pod.metadata.name) ? true : undefined), 60_000);
    note('helm install → operator pod leads', performance.now() - started);
    leaderBeforeUpgrade = pod.metadata.name;
  });

  it('an external MySQLCluster on a MariaDB StatefulSet, a MySQLDatabase and a MySQLUser become Ready', async () => {
    apply([
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: dbNamespace } },
      // Tenancy: the cluster admits namespaces with this label, as a hosting platform would set it up.
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: siteNamespace, labels: { 'hosting/tier': 'sites' } } },
    ]);
    apply([
      // The server's root account (root@'%' WITH GRANT OPTION) is the operator's admin account.
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'mariadb-admin', namespace: dbNamespace }, stringData: { username: 'root', password: rootPassword } },
      ...mariadbServerManifests({ namespace: dbNamespace, instance: 'e2e-chart', rootPassword: { secret: 'mariadb-admin', key: 'password' } }),
    ]);
    const mariadbStarted = performance.now();
    kubectl(plane, ['rollout', 'status', 'statefulset/mariadb', '-n', dbNamespace, '--timeout=120s']);
    note('MariaDB StatefulSet Ready', performance.now() - mariadbStarted);

    const started = performance.now();
    apply([
      {
        apiVersion: api,
        kind: 'MySQLCluster',
        metadata: clusterRef,
        spec: {
          external: { host: serviceHost, port: 3306, adminSecretRef: { name: 'mariadb-admin' } },
          allowedNamespaces: { from: 'Selector', selector: { matchLabels: { 'hosting/tier': 'sites' } } },
        },
      },
      database('shop'),
      user('shop'),
    ]);
    await readyTimes('created →', started, [
      ['mysqlcluster', dbNamespace, 'shared'],
      ['mysqldatabase', siteNamespace, 'shop'],
      ['mysqluser', siteNamespace, 'shop'],
    ]);
    const status = JSON.parse(kubectl(plane, ['get', 'mysqlcluster', 'shared', '-n', dbNamespace, '-o', 'jsonpath={.status}'])) as { serverVersion?: string };
    assert.match(status.serverVersion ?? '', /MariaDB/);

    // On the server itself, not only in the status.
    assert.equal(collationOf('shop'), 'utf8mb4_unicode_ci');
    assert.equal(serverSql("SELECT CONCAT(User, '@', Host) FROM mysql.global_priv WHERE User = 'shop'"), 'shop@%');
  });

  it("an application pod with the user's connection Secret writes a row through the Service name", async () => {
    const secret = JSON.parse(kubectl(plane, ['get', 'secret', 'shop-connection', '-n', siteNamespace, '-o', 'json'])) as { data: Record<string, string> };
    const field = (key: string): string => Buffer.from(secret.data[key] ?? '', 'base64').toString();
    assert.equal(field('host'), serviceHost);
    assert.equal(field('port'), '3306');
    assert.equal(field('username'), 'shop');
    assert.equal(field('database'), 'shop');

    const fromSecret = (name: string, key: string): unknown => ({ name, valueFrom: { secretKeyRef: { name: 'shop-connection', key } } });
    const sql = "CREATE TABLE orders (id INT PRIMARY KEY, item VARCHAR(40)); INSERT INTO orders VALUES (1, 'written by the app'); SELECT CURRENT_USER(), item FROM orders";
    const started = performance.now();
    apply([
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'app', namespace: siteNamespace },
        spec: {
          restartPolicy: 'Never',
          containers: [
            {
              name: 'app',
              image: mariadbImageName,
              imagePullPolicy: 'IfNotPresent',
              env: [
                fromSecret('DB_HOST', 'host'),
                fromSecret('DB_PORT', 'port'),
                fromSecret('DB_USER', 'username'),
                fromSecret('MYSQL_PWD', 'password'),
                fromSecret('DB_NAME', 'database'),
                { name: 'SQL', value: sql },
              ],
              command: ['sh', '-c', 'exec mariadb --host="$DB_HOST" --port="$DB_PORT" --user="$DB_USER" --batch --skip-column-names "$DB_NAME" --execute="$SQL"'],
            },
          ],
        },
      },
    ]);
    const phase = await eventually('the app pod to finish', () => {
      const current = kubectlResult(plane, ['get', 'pod', 'app', '-n', siteNamespace, '-o', 'jsonpath={.status.phase}']).stdout;
      return current === 'Succeeded' || current === 'Failed' ? current : undefined;
    });
    note('app pod created → finished', performance.now() - started);
    const logs = kubectl(plane, ['logs', 'app', '-n', siteNamespace]);
    assert.equal(phase, 'Succeeded', logs);
    assert.equal(logs.trim(), 'shop@%\twritten by the app');
    assert.equal(serverSql('SELECT id, item FROM shop.orders'), '1\twritten by the app');
  });

  it('helm upgrade to another log level rolls the operator; the Lease moves once; objects created meanwhile become Ready', async () => {
    const before = leaseSpec();
    assert.ok(holdsLease(before, leaderBeforeUpgrade), `the Lease is held by ${before?.holderIdentity ?? '(nobody)'}, not ${leaderBeforeUpgrade}`);
    const transitionsBefore = before?.leaseTransitions ?? 0;
    // The chart's default: one replica, so the rollout hands the Lease from the old pod to the new one exactly once.
    const replicas = kubectl(plane, ['get', 'deployment', deploymentName, '-n', release.namespace, '-o', 'jsonpath={.spec.replicas}']);
    assert.equal(replicas, '1');

    const started = performance.now();
    releaseHelm(['upgrade', release.name, chartDir, ...imageValues, '--set', 'operator.logLevel=debug']);
    // Created, and changed, while the old pod stops and the new one takes
    // over: neither may fall between the two.
    const createdDuringRollout = performance.now();
    apply([database('blog'), user('blog'), database('shop', 'utf8mb4_bin')]);

    // Every holder the Lease has while the rollout runs, to see that it moves once and never back.
    const holders: string[] = [before?.holderIdentity ?? ''];
    const newPod = await eventually('the new operator pod to be Ready, alone, and to lead', () => {
      const holder = leaseSpec()?.holderIdentity ?? '';
      if (holders.at(-1) !== holder) holders.push(holder);
      const pods = operatorPods();
      const [only] = pods;
      if (pods.length !== 1 || only === undefined || only.metadata.name === leaderBeforeUpgrade || !isReady(only)) return undefined;
      return holdsLease({ holderIdentity: holder }, only.metadata.name) ? only : undefined;
    }, 180_000);
    note('helm upgrade → new operator pod Ready and leading, old pod gone', performance.now() - started);

    const container = newPod.spec.containers[0];
    assert.ok(container?.args?.includes('--log-level=debug'), JSON.stringify(container?.args));
    assert.equal(newPod.status.containerStatuses?.[0]?.restartCount, 0);
    // The value is in effect, not only in the args: pino writes debug lines (level 20) only at debug level.
    const logs = kubectl(plane, ['logs', newPod.metadata.name, '-n', release.namespace]);
    assert.match(logs, /"level":20\b/);
    assert.equal(logs.match(/"msg":"became the leader"/g)?.length, 1, logs);
    assert.doesNotMatch(logs, /lost the leadership/);

    const leaseAfter = leaseSpec();
    const transitions = (leaseAfter?.leaseTransitions ?? 0) - transitionsBefore;
    assert.ok(transitions >= 0 && transitions <= 1, `leaseTransitions grew by ${transitions}`);
    const distinctHolders = holders.filter((h) => h !== '');
    assert.equal(distinctHolders.length, 2, `the Lease went through ${JSON.stringify(holders)}`);
    assert.ok(holdsLease({ holderIdentity: distinctHolders[0] ?? '' }, leaderBeforeUpgrade), JSON.stringify(holders));
    assert.ok(holdsLease({ holderIdentity: distinctHolders[1] ?? '' }, newPod.metadata.name), JSON.stringify(holders));
    process.stdout.write(`# chart e2e: Lease holders during the rollout: ${holders.map((h) => h || '(released)').join(' → ')}; leaseTransitions +${transitions}\n`);

    await readyTimes('created during the rollout →', createdDuringRollout, [
      ['mysqldatabase', siteNamespace, 'blog'],
      ['mysqluser', siteNamespace, 'blog'],
    ]);
    assert.equal(collationOf('blog'), 'utf8mb4_unicode_ci');
    assert.equal(serverSql("SELECT CONCAT(User, '@', Host) FROM mysql.global_priv WHERE User = 'blog'"), 'blog@%');
    await eventually('the changed collation of shop on the server', () => (collationOf('shop') === 'utf8mb4_bin' ? true : undefined), 60_000);
    note('changed during the rollout → mysqldatabase site-a/shop altered on the server', performance.now() - createdDuringRollout);

    // Nothing left behind: every object's Ready condition is True and speaks
    // of its current generation (the status write may trail the SQL a moment).
    let behind: string[] = [];
    try {
      await eventually('every object Ready at its current generation', () => {
        behind = unreconciled();
        return behind.length === 0 ? true : undefined;
      }, 30_000);
    } catch (error) {
      assert.fail(`${String(error)}: ${behind.join('; ')}`);
    }
  });

  it('helm uninstall keeps the CRDs, the objects and their databases', async () => {
    const out = releaseHelm(['uninstall', release.name]);
    assert.match(out, /These resources were kept due to the resource policy:/);
    await eventually('the operator pods to be gone', () => (operatorPods().length === 0 ? true : undefined), 90_000);
    assert.notEqual(kubectlResult(plane, ['get', 'deployment', deploymentName, '-n', release.namespace]).status, 0, 'the Deployment is still there');

    for (const crd of crdNames) assert.equal(kubectlResult(plane, ['get', 'crd', crd]).status, 0, `${crd} was deleted`);
    const objects = [
      ['mysqlcluster', dbNamespace, 'shared'],
      ['mysqldatabase', siteNamespace, 'shop'],
      ['mysqldatabase', siteNamespace, 'blog'],
      ['mysqluser', siteNamespace, 'shop'],
      ['mysqluser', siteNamespace, 'blog'],
      ['secret', siteNamespace, 'shop-connection'],
    ] as const;
    for (const [kind, namespace, name] of objects) {
      const result = kubectlResult(plane, ['get', kind, name, '-n', namespace, '-o', 'jsonpath={.metadata.deletionTimestamp}']);
      assert.equal(result.status, 0, `${kind} ${namespace}/${name} was deleted`);
      assert.equal(result.stdout, '', `${kind} ${namespace}/${name} is being deleted`);
    }
    assert.equal(serverSql("SELECT GROUP_CONCAT(SCHEMA_NAME ORDER BY SCHEMA_NAME) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME IN ('shop', 'blog')"), 'blog,shop');
    assert.equal(serverSql("SELECT GROUP_CONCAT(User ORDER BY User) FROM mysql.global_priv WHERE User IN ('shop', 'blog')"), 'blog,shop');
    assert.equal(serverSql('SELECT item FROM shop.orders WHERE id = 1'), 'written by the app');
    // The namespaces stay: with the operator gone, the MySQLUsers' finalizers
    // would hold their deletion forever; the cluster is thrown away after the run.
  });
});
