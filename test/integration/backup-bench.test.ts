// Smoke test of the backup benchmark's parts (bench/backup/) at a tiny size,
// so that the benchmark, which is not part of the test command, does not rot:
// the generated database has the shape and size asked for, the hand-run
// baseline and the script both back it up to a local store, and both restores
// give back every row (the script's also verifies its checksums).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import * as mariadb from 'mariadb';
import { generateDataset, type Dataset } from '../../bench/backup/dataset.ts';
import { baselineBackup, baselineRestore, ourBackup, ourRestore, storedBytes, type Account, type Store } from '../../bench/backup/pipelines.ts';
import { timeTableFacts } from '../../bench/backup/profile.ts';
import { startMariaDB, stopMariaDB, type MariaDBInstance } from '../env/mariadb.ts';

const dir = mkdtempSync(join(tmpdir(), 'flightdeck-backup-bench-'));
const store: Store = { name: 'local', env: { RCLONE_CONFIG_TARGET_TYPE: 'local' }, base: `target:${join(dir, 'store')}` };
let server: MariaDBInstance | undefined;
let conn: mariadb.Connection | undefined;

function started(): { account: Account; conn: mariadb.Connection } {
  if (server === undefined || conn === undefined) throw new Error('the test server did not start');
  return { account: { host: server.host, port: server.port, user: server.adminUser, password: server.adminPassword }, conn };
}

async function rowCounts(database: string, tables: readonly string[]): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of tables) {
    // Names from the generator's fixed list.
    const [row] = await started().conn.query<{ n: bigint }[]>(`SELECT COUNT(*) AS n FROM \`${database}\`.\`${table}\``);
    counts[table] = Number(row?.n);
  }
  return counts;
}

before(async () => {
  mkdirSync(join(dir, 'store'));
  mkdirSync(join(dir, 'generated'));
  server = await startMariaDB({ dir: join(dir, 'mariadb'), name: 'bench', extraArgs: ['--log-bin=binlog', '--server-id=1'] });
  conn = await mariadb.createConnection({ host: server.host, port: server.port, user: server.adminUser, password: server.adminPassword });
});

after(async () => {
  await conn?.end();
  if (server !== undefined) await stopMariaDB(server);
  rmSync(dir, { recursive: true, force: true });
});

it('generates a database of the asked size, backs it up both ways and restores every row both ways', async () => {
  const { account } = started();
  const dataset: Dataset = await generateDataset(started().conn, { dir: join(dir, 'generated'), database: 'bench', bytes: 1024 * 1024 });
  assert.deepEqual(dataset.tables.map((t) => t.name), ['wp_posts', 'wp_postmeta', 'visits']);
  assert.ok(dataset.textBytes > 0.9 * 1024 * 1024 && dataset.textBytes < 1.2 * 1024 * 1024, `generated ${dataset.textBytes} bytes for 1 MiB`);
  const tables = dataset.tables.map((t) => t.name);
  const expected = Object.fromEntries(dataset.tables.map((t) => [t.name, t.rows]));
  assert.deepEqual(await rowCounts('bench', tables), expected);
  for (const rows of Object.values(expected)) assert.ok(rows > 0);

  const baselineSeconds = await baselineBackup(account, store, 'bench', 'baseline/1');
  const ours = await ourBackup(account, store, mkdtempSync(join(dir, 'work-')), 'bench', 'ours/1', '20261202T030000Z');
  assert.ok(baselineSeconds > 0);
  assert.equal(ours.result.result, 'Completed');
  const [baselineBytes, oursBytes] = [await storedBytes(store, 'baseline/1'), await storedBytes(store, 'ours/1')];
  // The same dump, gzip-compressed both ways; ours adds only manifest.json.
  assert.ok(Math.abs(oursBytes - baselineBytes) < 0.05 * baselineBytes + 20_000, `stored ${oursBytes} vs ${baselineBytes} bytes`);

  const facts = await timeTableFacts(started().conn, 'bench', tables);
  assert.ok(facts.seconds >= facts.checksumSeconds && facts.checksumSeconds > 0);

  await started().conn.query('DROP DATABASE bench');
  await baselineRestore(account, store, 'baseline/1');
  assert.deepEqual(await rowCounts('bench', tables), expected);
  await started().conn.query('DROP DATABASE bench');
  const restored = await ourRestore(account, store, mkdtempSync(join(dir, 'work-')), 'ours/1');
  assert.equal(restored.result.verified, true);
  assert.deepEqual(await rowCounts('bench', tables), expected);
});
