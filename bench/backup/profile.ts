// Where the time of the script's backup and restore goes, stage by stage, each
// stage timed alone on the same data: the dump itself, compression (gzip at
// the script's level 6, gzip -1 and zstd for comparison), the sha256 of the
// stored object, the download to a file that restore verifies before loading,
// the renaming filter restore pipes the dump through, and the table facts
// (row counts and CHECKSUM TABLE) read after a backup and after a restore.
// Stages overlap inside the real pipelines, so these do not add up to the
// measured runs; they say which stage could be the bottleneck and what is
// extra compared to the hand-run baseline.
import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type * as mariadb from 'mariadb';
import { databaseName, quoteIdentifier, tableName } from '../../src/mysql/identifiers.ts';
import { backupScript, dumpOptions, run, type Account, type Store } from './pipelines.ts';

export interface TableFactsTiming {
  readonly seconds: number;
  /** Of which CHECKSUM TABLE (the rest is COUNT(*)). */
  readonly checksumSeconds: number;
}

/**
 * The script's table facts: COUNT(*) and CHECKSUM TABLE of each table in one
 * consistent snapshot, as it reads them after a backup and after a restore.
 */
export async function timeTableFacts(conn: mariadb.Connection, database: string, tables: readonly string[]): Promise<TableFactsTiming> {
  const start = performance.now();
  let checksumMs = 0;
  await conn.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
  for (const table of tables) {
    const name = `${quoteIdentifier(databaseName, database)}.${quoteIdentifier(tableName, table)}`;
    await conn.query(`SELECT COUNT(*) FROM ${name}`);
    const checksumStart = performance.now();
    await conn.query(`CHECKSUM TABLE ${name}`);
    checksumMs += performance.now() - checksumStart;
  }
  await conn.query('COMMIT');
  return { seconds: (performance.now() - start) / 1000, checksumSeconds: checksumMs / 1000 };
}

/** The awk program restore pipes the dump through, taken from the script itself so that the figure is its. */
function restoreFilterProgram(): string {
  const match = /\| awk '([\s\S]*?)' \| mariadb/.exec(readFileSync(backupScript, 'utf8'));
  if (match?.[1] === undefined) throw new Error(`cannot find restore's awk filter in ${backupScript}`);
  return match[1];
}

export interface StageTimes {
  readonly dumpToFileSeconds: number;
  readonly dumpBytes: number;
  readonly gzip6Seconds: number;
  readonly gzip6Bytes: number;
  readonly gzip1Seconds: number;
  readonly gzip1Bytes: number;
  readonly zstdSeconds: number;
  readonly zstdBytes: number;
  readonly sha256OfStoredSeconds: number;
  readonly downloadToFileSeconds: number;
  readonly downloadToPipeSeconds: number;
  readonly gunzipSeconds: number;
  readonly gunzipThroughRestoreFilterSeconds: number;
}

/**
 * Times the stages on `database` and on the stored object at
 * `<base>/<folder>/data.sql.gz` (a backup of it). Leaves nothing in `workDir`.
 */
export async function timeStages(account: Account, store: Store, workDir: string, database: string, folder: string): Promise<StageTimes> {
  const env = { DB_HOST: account.host, DB_PORT: String(account.port), DB_USER: account.user, MYSQL_PWD: account.password };
  const client = 'client=(--host="$DB_HOST" --port="$DB_PORT" --user="$DB_USER" --protocol=tcp)';
  const dump = join(workDir, 'profile-dump.sql');
  const shell = (what: string, text: string, args: readonly string[], extra: Record<string, string> = {}): Promise<number> =>
    run(what, 'bash', ['-c', `set -euo pipefail; ${text}`, what, ...args], { ...env, ...store.env, ...extra }).then((r) => Math.round(r.seconds * 100) / 100);
  try {
    const dumpToFileSeconds = await shell('dump to a file', `${client}; mariadb-dump "\${client[@]}" ${dumpOptions} --databases "$1" >"$2"`, [database, dump]);
    const dumpBytes = statSync(dump).size;
    const compressed = async (what: string, command: string): Promise<[number, number]> => {
      const seconds = await shell(what, `${command} <"$1" >"$1.out"`, [dump]);
      const bytes = statSync(`${dump}.out`).size;
      return [seconds, bytes];
    };
    const [gzip1Seconds, gzip1Bytes] = await compressed('gzip -1', 'gzip -1 -c');
    const [zstdSeconds, zstdBytes] = await compressed('zstd', 'zstd -q -c -T0');
    const [gzip6Seconds, gzip6Bytes] = await compressed('gzip -6', 'gzip -c');
    const sha256OfStoredSeconds = await shell('sha256sum', 'sha256sum "$1" >/dev/null', [`${dump}.out`]);
    rmSync(`${dump}.out`);
    rmSync(dump);

    const object = `${store.base}/${folder}/data.sql.gz`;
    const downloaded = join(workDir, 'profile-download.sql.gz');
    const downloadToFileSeconds = await shell('download to a file', 'rclone copyto --quiet "$1" "$2"', [object, downloaded]);
    const downloadToPipeSeconds = await shell('download to a pipe', 'rclone cat "$1" >/dev/null', [object]);
    const gunzipSeconds = await shell('gunzip', 'gzip -d -c "$1" >/dev/null', [downloaded]);
    const gunzipThroughRestoreFilterSeconds = await shell('gunzip | restore filter', 'gzip -d -c "$1" | awk "$2" >/dev/null', [downloaded, restoreFilterProgram()], {
      FLIGHTDECK_MAPPING: `${quoteIdentifier(databaseName, database)}\t${quoteIdentifier(databaseName, database)}\n`,
    });
    rmSync(downloaded);
    return {
      dumpToFileSeconds, dumpBytes, gzip6Seconds, gzip6Bytes, gzip1Seconds, gzip1Bytes, zstdSeconds, zstdBytes,
      sha256OfStoredSeconds, downloadToFileSeconds, downloadToPipeSeconds, gunzipSeconds, gunzipThroughRestoreFilterSeconds,
    };
  } finally {
    rmSync(dump, { force: true });
    rmSync(`${dump}.out`, { force: true });
  }
}
