// The operator as the image ships it — compiled to dist/ by
// tsconfig.build.json, not run from its .ts sources — reconciles a
// MySQLDatabase against a real kube-apiserver and MariaDB. Catches what only
// the build can break: an import the rewrite from .ts to .js misses, a module
// left out of dist/.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import * as mariadb from 'mariadb';
import { stringify } from 'yaml';
import { apiVersion } from '../../src/api/common.ts';
import { operatorRuntime } from '../env/build.ts';
import { externalClusterManifests } from '../env/external-cluster.ts';
import { kubectl, waitForReady } from '../env/kubectl.ts';
import { startOperator, stopOperator, type OperatorProcess } from '../env/operator.ts';
import { repoRoot } from '../env/paths.ts';
import { startTestEnvironment, stopTestEnvironment, type TestEnvironment } from '../env/shared.ts';

let env: TestEnvironment;
let operator: OperatorProcess;

const cluster = { name: 'shared', namespace: 'db-system' };

before(async () => {
  // An environment of its own, not the shared one: the operator watches every
  // namespace and would reconcile the objects of other test files.
  env = await startTestEnvironment(1);
  operator = await startOperator({ kubeconfig: env.controlPlane.kubeconfig, dir: env.dir, from: 'build', args: ['--leader-elect', 'false'] });
});

after(async () => {
  await stopOperator(operator);
  await stopTestEnvironment(env);
});

it('the built operator creates a MySQLDatabase and reports it Ready', async () => {
  const server = env.mariadb[0];
  assert.ok(server);
  const k = env.controlPlane;
  for (const ns of [cluster.namespace, 'site-a']) kubectl(k, ['create', 'namespace', ns]);
  const database = { apiVersion, kind: 'MySQLDatabase', metadata: { name: 'shop', namespace: 'site-a' }, spec: { cluster, dbName: 'shop_a' } };
  const manifests = [...externalClusterManifests(server, cluster), database];
  kubectl(k, ['apply', '-f', '-'], manifests.map((m) => stringify(m)).join('---\n'));

  await waitForReady(k, 'mysqldatabase', 'site-a', 'shop');
  const admin = await mariadb.createConnection({ host: server.host, port: server.port, user: server.adminUser, password: server.adminPassword });
  try {
    const rows = await admin.query<unknown[]>('SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', ['shop_a']);
    assert.equal(rows.length, 1);
  } finally {
    await admin.end();
  }
});

it('the Dockerfile runs it with the Node flags and environment the local image and the tests use', () => {
  const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
  const finalStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
  const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(finalStage)?.[1];
  assert.ok(entrypoint !== undefined, 'the final stage has an ENTRYPOINT in exec form');
  assert.deepEqual(JSON.parse(entrypoint), ['/usr/local/bin/node', ...operatorRuntime.nodeFlags, '/app/dist/cli/main.js', 'operator']);
  const env = new Map(
    [...finalStage.matchAll(/^ENV (.+)$/gm)].flatMap((m) => (m[1] ?? '').split(/\s+/).map((pair) => pair.split('=') as [string, string])),
  );
  for (const [key, value] of Object.entries(operatorRuntime.env)) assert.equal(env.get(key), value, key);
});
