// The whole test suite: type check, lint, then unit, integration and e2e
// tests with node's test runner against one shared real environment
// (kube-apiserver, etcd, MariaDB) and one local cluster with a node (real
// pods). `node scripts/test.ts unit` runs only the unit tests.
//
// Run it through ./scripts/test, which first installs what a new machine lacks.
import { spawnSync } from 'node:child_process';
import { globSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../test/env/paths.ts';
import { startTestEnvironment, stopTestEnvironment, testEnvVariable } from '../test/env/shared.ts';
import { stopLocalCluster } from '../test/env/cluster/cluster.ts';
import { e2eClusterVariable, startE2eCluster } from '../test/env/cluster/shared.ts';
import { operatorClusterNodes, operatorClusterVariable, startOperatorCluster } from '../test/env/operator-cluster.ts';

const tiers = {
  unit: ['src/**/*.test.ts'],
  integration: ['test/integration/**/*.test.ts'],
  // Real pods on a local cluster (test/env/cluster); needs root.
  e2e: ['test/e2e/**/*.test.ts'],
} as const;
type Tier = keyof typeof tiers;

/** E2e files that start local clusters of their own (see main). */
const ownClusterFiles = ['test/e2e/nodes.test.ts', 'test/e2e/storage-nodes.test.ts'];

/**
 * E2e files that share one three-node cluster with the operator installed by
 * its chart (test/env/operator-cluster.ts), one file at a time, after the
 * own-cluster ones: the managed clusters' and the backups'.
 */
const operatorClusterFiles = [
  'test/e2e/managed-cluster.test.ts',
  'test/e2e/managed-scale.test.ts',
  'test/e2e/managed-rollout.test.ts',
  'test/e2e/managed-seed.test.ts',
  'test/e2e/backup.test.ts',
  'test/e2e/volume-backup.test.ts',
  'test/e2e/physical-backup.test.ts',
  'test/e2e/backup-interrupted.test.ts',
  'test/e2e/backup-queue.test.ts',
  'test/e2e/site-restore.test.ts',
];

function run(label: string, command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): boolean {
  process.stdout.write(`\n▶ ${label}\n`);
  const started = performance.now();
  const result = spawnSync(command, args, { stdio: 'inherit', cwd: repoRoot, env });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const ok = result.status === 0;
  process.stdout.write(`${ok ? '✓' : '✗'} ${label} (${seconds}s)\n`);
  return ok;
}

const bin = (name: string): string => join(repoRoot, 'node_modules', '.bin', name);

async function main(requested: readonly string[]): Promise<number> {
  const selected: Tier[] = requested.length === 0 ? ['unit', 'integration', 'e2e'] : (requested as Tier[]);
  for (const tier of selected) {
    if (!(tier in tiers)) {
      process.stderr.write(`unknown test tier ${tier}; choose from ${Object.keys(tiers).join(', ')}\n`);
      return 2;
    }
  }
  if (requested.length === 0) {
    if (!run('type check (tsc --noEmit)', process.execPath, [bin('tsc'), '--noEmit', '-p', '.'])) return 1;
    if (!run('lint (eslint)', process.execPath, [bin('eslint'), '--max-warnings', '0', '.'])) return 1;
  }
  const files = selected
    .flatMap((tier) => tiers[tier].flatMap((pattern) => globSync(pattern, { cwd: repoRoot })))
    .sort();

  const env = { ...process.env };
  const stops: (() => Promise<void>)[] = [];
  // Stops what was started, last first; a second call finds nothing left to stop.
  const stop = async (): Promise<void> => {
    for (let s = stops.pop(); s !== undefined; s = stops.pop()) await s();
  };
  if (selected.includes('integration')) {
    process.stdout.write('\n▶ starting the test environment (etcd, kube-apiserver, 2 × MariaDB)\n');
    const started = performance.now();
    const testEnv = await startTestEnvironment();
    process.stdout.write(`✓ test environment ready (${((performance.now() - started) / 1000).toFixed(1)}s)\n`);
    env[testEnvVariable] = join(testEnv.dir, 'environment.json');
    stops.push(() => stopTestEnvironment(testEnv));
  }
  if (selected.includes('e2e')) {
    process.stdout.write('\n▶ starting the local cluster for the e2e tests (1 node)\n');
    const started = performance.now();
    try {
      const cluster = await startE2eCluster(1, async (label, work) => {
        const result = await work();
        process.stdout.write(`  ✓ ${label}\n`);
        return result;
      });
      env[e2eClusterVariable] = join(cluster.dir, 'cluster.json');
      stops.push(() => stopLocalCluster(cluster));
    } catch (error) {
      await stop();
      throw error;
    }
    process.stdout.write(`✓ local cluster ready (${((performance.now() - started) / 1000).toFixed(1)}s)\n`);
  }
  // E2e files that start multi-node clusters of their own (several hundred
  // MiB and much of both cores each) run after the rest, one at a time: run
  // beside the other files, they starved timing-sensitive tests (a deposed
  // leader's exit, failovers) of CPU.
  const ownCluster = files.filter((f) => ownClusterFiles.some((name) => f.endsWith(name)));
  const onOperatorCluster = files.filter((f) => operatorClusterFiles.some((name) => f.endsWith(name)));
  const shared = files.filter((f) => !ownCluster.includes(f) && !onOperatorCluster.includes(f));
  const testArgs = (concurrency: number, timeoutMs: number, list: readonly string[]): string[] => [
    '--test',
    '--test-reporter=spec',
    `--test-concurrency=${concurrency}`,
    `--test-timeout=${timeoutMs}`,
    ...list,
  ];
  try {
    let ok = shared.length === 0 || run(`tests: ${selected.join(' + ')}`, process.execPath, testArgs(2, 300_000, shared), env);
    // The shared environment is not used by the files below: its CPU goes to them.
    // Nor is it named to them: it is stopped, and a file that asks for
    // e2eCluster() or testEnvironment() must start its own.
    await stop();
    const ownEnv = Object.fromEntries(Object.entries(env).filter(([name]) => name !== e2eClusterVariable && name !== testEnvVariable));
    if (ownCluster.length > 0) {
      ok = run('tests: e2e on clusters of their own, one at a time', process.execPath, testArgs(1, 900_000, ownCluster), ownEnv) && ok;
    }
    if (onOperatorCluster.length > 0) {
      process.stdout.write(`\n▶ starting the local cluster with the operator for the managed-cluster e2e tests (${operatorClusterNodes} nodes)\n`);
      const started = performance.now();
      const cluster = await startOperatorCluster(operatorClusterNodes, async (label, work) => {
        const result = await work();
        process.stdout.write(`  ✓ ${label}\n`);
        return result;
      });
      stops.push(() => stopLocalCluster(cluster));
      process.stdout.write(`✓ local cluster with the operator ready (${((performance.now() - started) / 1000).toFixed(1)}s)\n`);
      const operatorEnv = { ...ownEnv, [operatorClusterVariable]: join(cluster.dir, 'cluster.json') };
      ok = run('tests: e2e on one cluster with the operator, one file at a time', process.execPath, testArgs(1, 900_000, onOperatorCluster), operatorEnv) && ok;
    }
    return ok ? 0 : 1;
  } finally {
    await stop();
  }
}

process.exitCode = await main(process.argv.slice(2));
