// The whole test suite: type check, lint, then unit and integration tests with
// node's test runner against one shared real environment (kube-apiserver,
// etcd, MariaDB). `node scripts/test.ts unit` runs only the unit tests.
//
// Run it through ./scripts/test, which first installs what a new machine lacks.
import { spawnSync } from 'node:child_process';
import { globSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../test/env/paths.ts';
import { startTestEnvironment, stopTestEnvironment, testEnvVariable } from '../test/env/shared.ts';

const tiers = {
  unit: ['src/**/*.test.ts'],
  integration: ['test/integration/**/*.test.ts'],
} as const;
type Tier = keyof typeof tiers;

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
  const selected: Tier[] = requested.length === 0 ? ['unit', 'integration'] : (requested as Tier[]);
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
  const files = selected.flatMap((tier) => tiers[tier].flatMap((pattern) => globSync(pattern, { cwd: repoRoot }))).sort();

  const env = { ...process.env };
  let stop: (() => Promise<void>) | undefined;
  if (selected.includes('integration')) {
    process.stdout.write('\n▶ starting the test environment (etcd, kube-apiserver, 2 × MariaDB)\n');
    const started = performance.now();
    const testEnv = await startTestEnvironment();
    process.stdout.write(`✓ test environment ready (${((performance.now() - started) / 1000).toFixed(1)}s)\n`);
    env[testEnvVariable] = join(testEnv.dir, 'environment.json');
    stop = () => stopTestEnvironment(testEnv);
  }
  try {
    const ok = run(`tests: ${selected.join(' + ')}`, process.execPath, [
      '--test',
      '--test-reporter=spec',
      '--test-concurrency=2',
      '--test-timeout=300000',
      ...files,
    ], env);
    return ok ? 0 : 1;
  } finally {
    await stop?.();
  }
}

process.exitCode = await main(process.argv.slice(2));
