// The environment integration tests run against: one control plane with the
// CRDs installed and two MariaDB servers. `npm test` (scripts/test.ts) starts
// it once and passes it to every test file through FLIGHTDECK_TEST_ENV; a test
// file run on its own (`node --test test/integration/x.test.ts`) starts its own.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { startControlPlane, stopControlPlane, type ControlPlane } from './controlplane.ts';
import { installCrds } from './crds.ts';
import { startMariaDB, stopMariaDB, type MariaDBInstance } from './mariadb.ts';

export interface TestEnvironment {
  readonly dir: string;
  readonly controlPlane: ControlPlane;
  readonly mariadb: readonly MariaDBInstance[];
}

export const testEnvVariable = 'FLIGHTDECK_TEST_ENV';

/** Starts a control plane (CRDs installed) and `servers` MariaDB servers under a new temporary directory. */
export async function startTestEnvironment(servers = 2): Promise<TestEnvironment> {
  const dir = mkdtempSync(join(tmpdir(), 'flightdeck-test-'));
  const [controlPlane, mariadb] = await Promise.all([
    startControlPlane({ dir: join(dir, 'controlplane') }),
    Promise.all(Array.from({ length: servers }, (_, i) => startMariaDB({ dir: join(dir, 'mariadb'), name: `mariadb-${i}` }))),
  ]);
  const env: TestEnvironment = { dir, controlPlane, mariadb };
  installCrds(env.controlPlane);
  writeFileSync(join(dir, 'environment.json'), JSON.stringify(env), { mode: 0o600 });
  return env;
}

export async function stopTestEnvironment(env: TestEnvironment): Promise<void> {
  await Promise.all([stopControlPlane(env.controlPlane), ...env.mariadb.map((m) => stopMariaDB(m))]);
  rmSync(env.dir, { recursive: true, force: true });
}

let own: Promise<TestEnvironment> | undefined;

/**
 * The shared environment, or one of this test file's own, stopped after its
 * tests. Call it at the top level of a test file (`await testEnvironment()`):
 * called inside a hook, the teardown would belong to that hook and run as
 * soon as the hook ends.
 */
export function testEnvironment(): Promise<TestEnvironment> {
  const file = process.env[testEnvVariable];
  if (file !== undefined) return Promise.resolve(JSON.parse(readFileSync(file, 'utf8')) as TestEnvironment);
  if (own === undefined) {
    own = startTestEnvironment();
    after(async () => {
      if (own !== undefined) await stopTestEnvironment(await own);
    });
  }
  return own;
}
