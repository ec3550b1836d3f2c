// Independent MariaDB servers for tests and the local environment: each a
// `mariadbd` process from Debian's mariadb-server package, on its own loopback
// port with its own data directory and an admin account with a random password.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as mariadb from 'mariadb';
import { cacheDir } from './paths.ts';
import { freePort } from './ports.ts';
import { startProcess, stopProcess, waitUntil, type StartedProcess } from './processes.ts';

export interface MariaDBInstance {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly socket: string;
  readonly dataDir: string;
  /** An account with every privilege WITH GRANT OPTION, reachable over TCP. */
  readonly adminUser: string;
  readonly adminPassword: string;
  readonly process: StartedProcess;
}

function mariadbVersion(): string {
  const out = execFileSync('mariadbd', ['--version'], { encoding: 'utf8' });
  const match = /Ver (\S+)/.exec(out);
  if (match?.[1] === undefined) throw new Error(`cannot read the version of mariadbd from: ${out}`);
  return match[1];
}

/**
 * A freshly initialised data directory, made once per MariaDB version and
 * copied for each server: `mariadb-install-db` takes seconds, a copy takes
 * milliseconds.
 */
function templateDataDir(): string {
  const template = join(cacheDir(), `mariadb-datadir-${mariadbVersion()}`);
  if (existsSync(template)) return template;
  const building = `${template}.tmp-${process.pid}`;
  rmSync(building, { recursive: true, force: true });
  mkdirSync(building, { recursive: true });
  execFileSync(
    'mariadb-install-db',
    [
      '--no-defaults',
      `--datadir=${building}`,
      '--user=root',
      '--auth-root-authentication-method=normal',
      '--skip-test-db',
      '--skip-name-resolve',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  renameSync(building, template);
  return template;
}

export interface StartMariaDBOptions {
  /** Directory under which each server gets `<name>/`. */
  dir: string;
  name: string;
  /** Fixed port; a free one when absent. */
  port?: number;
  /** Extra mariadbd options such as `--server-id=2`. */
  extraArgs?: readonly string[];
  /**
   * Run inside this network namespace (`ip netns exec`, which execs mariadbd
   * in place, so the pid is the server's); pass a --bind-address of the
   * namespace in extraArgs. Setup goes through the socket, which no network cuts.
   */
  netns?: string;
}

/** Starts one server and returns once its admin account accepts connections. */
export async function startMariaDB(options: StartMariaDBOptions): Promise<MariaDBInstance> {
  const dataDir = join(options.dir, options.name);
  const fresh = !existsSync(join(dataDir, 'mysql'));
  if (fresh) {
    mkdirSync(dataDir, { recursive: true });
    cpSync(templateDataDir(), dataDir, { recursive: true });
  }
  const port = options.port ?? (await freePort());
  const socket = join(dataDir, 'mariadbd.sock');
  const inNetns = options.netns === undefined ? [] : ['netns', 'exec', options.netns, 'mariadbd'];
  const proc = startProcess({
    name: `mariadbd ${options.name}`,
    command: options.netns === undefined ? 'mariadbd' : 'ip',
    args: [
      ...inNetns,
      '--no-defaults',
      `--datadir=${dataDir}`,
      `--socket=${socket}`,
      `--port=${port}`,
      '--bind-address=127.0.0.1',
      `--pid-file=${join(dataDir, 'mariadbd.pid')}`,
      '--user=root',
      '--skip-name-resolve',
      '--character-set-server=utf8mb4',
      '--collation-server=utf8mb4_unicode_ci',
      '--innodb-buffer-pool-size=32M',
      '--performance-schema=OFF',
      // Test servers: trade durability across a machine crash for speed.
      '--innodb-flush-log-at-trx-commit=2',
      '--max-connections=500',
      ...(options.extraArgs ?? []),
    ],
    logFile: join(options.dir, `${options.name}.log`),
  });
  try {
    // A fresh copy of the template has a password-less root; later starts use
    // the password stored beside the data.
    const adminPassword = fresh ? randomBytes(18).toString('base64url') : readFileSync(passwordFile(dataDir), 'utf8').trim();
    await waitUntil(
      `${options.name} to accept connections`,
      async () => {
        const login = fresh ? { user: 'root' } : { user: 'root', password: adminPassword };
        const conn = await mariadb.createConnection({ socketPath: socket, connectTimeout: 1000, ...login });
        await conn.end();
        return true;
      },
      { timeoutMs: 60_000, process: proc },
    );
    if (fresh) await createAdmin(socket, adminPassword, dataDir);
    return { name: options.name, host: '127.0.0.1', port, socket, dataDir, adminUser: 'root', adminPassword, process: proc };
  } catch (error) {
    await stopProcess(proc.pid);
    throw error;
  }
}

const passwordFile = (dataDir: string): string => join(dataDir, 'flightdeck-admin-password');

/** Gives root a password and lets it log in over TCP from loopback. */
async function createAdmin(socket: string, password: string, dataDir: string): Promise<void> {
  const conn = await mariadb.createConnection({ socketPath: socket, user: 'root' });
  try {
    // mariadb-install-db also made root@<this machine's name>; that name is
    // never matched (--skip-name-resolve), but an account without a password
    // is not left lying around.
    const hosts = ['localhost', '127.0.0.1', '::1'];
    const others = await conn.query<{ Host: string }[]>('SELECT Host FROM mysql.user WHERE User = ?', ['root']);
    for (const { Host } of others) if (!hosts.includes(Host)) await conn.query('DROP USER ?@?', ['root', Host]);
    for (const host of hosts) {
      await conn.query('CREATE USER IF NOT EXISTS ?@? IDENTIFIED BY ?', ['root', host, password]);
      await conn.query('ALTER USER ?@? IDENTIFIED BY ?', ['root', host, password]);
      await conn.query('GRANT ALL PRIVILEGES ON *.* TO ?@? WITH GRANT OPTION', ['root', host]);
    }
  } finally {
    await conn.end();
  }
  writeFileSync(passwordFile(dataDir), password, { mode: 0o600 });
}

export function stopMariaDB(instance: Pick<MariaDBInstance, 'process'>): Promise<void> {
  return stopProcess(instance.process.pid, 30_000);
}
