// The four pipelines the backup benchmark times, each run as a process the way
// it would run for real: ours is the backup Job's script
// (test/env/images/mariadb/flightdeck-backup.sh) with the environment the Job
// gives it; the baseline is what an administrator runs by hand,
// `mariadb-dump | gzip | upload` and `download | gunzip | mariadb`, with the
// same dump options and the same upload tool (rclone) to the same store, so
// that the difference is what the script adds: the checksum and size tees,
// the table facts (row counts and CHECKSUM TABLE), the manifest, and on
// restore the verified download and the renaming filter.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../test/env/paths.ts';

export const backupScript = join(repoRoot, 'test/env/images/mariadb/flightdeck-backup.sh');

/** Where backups go: an rclone remote named "target" configured by environment, and a base path on it. */
export interface Store {
  readonly name: string;
  /** RCLONE_CONFIG_TARGET_* as the Job builder sets them. */
  readonly env: Readonly<Record<string, string>>;
  /** `target:<bucket or directory>`, under which each run gets a folder. */
  readonly base: string;
}

/** A MariaDB account the pipelines log in with; the password goes to the clients through a file or MYSQL_PWD, never argv. */
export interface Account {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
}

export interface ProcessRun {
  readonly seconds: number;
  readonly stdout: string;
}

/** Runs a command to its end; fails with its exit status and the end of its stderr. */
export function run(what: string, command: string, args: readonly string[], env: Readonly<Record<string, string>>): Promise<ProcessRun> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    child.on('error', (error) => {
      reject(new Error(`${what}: cannot start ${command}: ${error.message}`));
    });
    child.on('close', (code, signal) => {
      const seconds = (performance.now() - start) / 1000;
      if (code === 0) resolve({ seconds, stdout });
      else reject(new Error(`${what} failed (exit ${code ?? signal}): ${stderr.trim()}`));
    });
  });
}

const clientOptions = 'mariadb_client=(--host="$DB_HOST" --port="$DB_PORT" --user="$DB_USER" --protocol=tcp)';

/** The dump options the script uses, so that the baseline dumps the same thing. */
export const dumpOptions = '--single-transaction --quick --hex-blob --routines --triggers --events --master-data=2';

function baselineEnv(account: Account, store: Store): Record<string, string> {
  return { ...store.env, DB_HOST: account.host, DB_PORT: String(account.port), DB_USER: account.user, MYSQL_PWD: account.password };
}

/** `mariadb-dump | gzip | rclone rcat` to `<base>/<folder>/data.sql.gz`. */
export async function baselineBackup(account: Account, store: Store, database: string, folder: string): Promise<number> {
  const script = `set -euo pipefail; ${clientOptions}
mariadb-dump "\${mariadb_client[@]}" ${dumpOptions} --databases "$1" | gzip -c | rclone rcat --quiet "$2"`;
  const result = await run('baseline backup', 'bash', ['-c', script, 'baseline', database, `${store.base}/${folder}/data.sql.gz`], baselineEnv(account, store));
  return result.seconds;
}

/** `rclone cat | gunzip | mariadb` of `<base>/<folder>/data.sql.gz`. */
export async function baselineRestore(account: Account, store: Store, folder: string): Promise<number> {
  const script = `set -euo pipefail; ${clientOptions}
rclone cat "$1" | gzip -d -c | mariadb "\${mariadb_client[@]}" --binary-mode`;
  const result = await run('baseline restore', 'bash', ['-c', script, 'baseline', `${store.base}/${folder}/data.sql.gz`], baselineEnv(account, store));
  return result.seconds;
}

export interface ScriptRun {
  readonly seconds: number;
  readonly result: Record<string, unknown>;
}

/** The Job's script, with exactly the environment a Job gives it (and PATH). */
async function script(command: 'backup' | 'restore', account: Account, store: Store, workDir: string, env: Record<string, string>): Promise<ScriptRun> {
  const passwordFile = join(workDir, `password-${account.user}`);
  writeFileSync(passwordFile, account.password, { mode: 0o600 });
  const resultFile = join(workDir, `result-${command}`);
  const { seconds } = await run(`flightdeck-backup ${command}`, 'bash', [backupScript, command], {
    ...store.env,
    TMPDIR: workDir,
    RESULT_FILE: resultFile,
    DB_HOST: account.host,
    DB_PORT: String(account.port),
    DB_USER: account.user,
    DB_PASSWORD_FILE: passwordFile,
    ...env,
  });
  return { seconds, result: JSON.parse(readFileSync(resultFile, 'utf8')) as Record<string, unknown> };
}

export function ourBackup(account: Account, store: Store, workDir: string, database: string, folder: string, id: string): Promise<ScriptRun> {
  return script('backup', account, store, workDir, {
    LOCATION: `${store.base}/${folder}`,
    BACKUP_ID: id,
    BACKUP_DATABASES: database,
    BACKUP_COMPRESSION: 'gzip',
  });
}

export function ourRestore(account: Account, store: Store, workDir: string, folder: string): Promise<ScriptRun> {
  return script('restore', account, store, workDir, { LOCATION: `${store.base}/${folder}` });
}

/** Bytes stored under `<base>/<folder>` (rclone's own listing, the same for both stores). */
export async function storedBytes(store: Store, folder: string): Promise<number> {
  const { stdout } = await run('rclone size', 'rclone', ['size', '--json', `${store.base}/${folder}`], store.env);
  return (JSON.parse(stdout) as { bytes: number }).bytes;
}

export async function removeFolder(store: Store, folder: string): Promise<void> {
  await run('rclone purge', 'rclone', ['purge', `${store.base}/${folder}`], store.env);
}
