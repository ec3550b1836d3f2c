// The local cluster the end-to-end tests run on. `./scripts/test` starts one
// for the whole e2e tier and passes it to every test file through
// FLIGHTDECK_E2E_CLUSTER; a test file run on its own
// (`node --test test/e2e/x.test.ts`) starts its own.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { startLocalCluster, stopLocalCluster, type RunningLocalCluster, type Step } from './cluster.ts';

export const e2eClusterVariable = 'FLIGHTDECK_E2E_CLUSTER';

/** Starts a cluster of `nodes` nodes in a new temporary directory; `<dir>/cluster.json` records it. */
export async function startE2eCluster(nodes = 1, step?: Step): Promise<RunningLocalCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'flightdeck-e2e-'));
  const record = join(dir, 'cluster.json');
  return startLocalCluster({
    dir,
    nodes,
    ...(step === undefined ? {} : { step }),
    onChange: (cluster) => {
      writeFileSync(record, JSON.stringify(cluster), { mode: 0o600 });
    },
  });
}

let own: Promise<RunningLocalCluster> | undefined;

/**
 * The shared cluster, or one of this test file's own, stopped after its
 * tests. Call it at the top level of a test file (`await e2eCluster()`), as
 * with testEnvironment() in ../shared.ts.
 */
export function e2eCluster(): Promise<RunningLocalCluster> {
  const file = process.env[e2eClusterVariable];
  if (file !== undefined) return Promise.resolve(JSON.parse(readFileSync(file, 'utf8')) as RunningLocalCluster);
  if (own === undefined) {
    own = startE2eCluster();
    after(async () => {
      if (own !== undefined) await stopLocalCluster(await own);
    });
  }
  return own;
}
