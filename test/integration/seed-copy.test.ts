// Seeding a replica from a streamed copy, on real mariadbd processes with the
// very scripts the pods run (builders/seed.ts): the donor endpoint (socat +
// mariadb-backup) serves a writer that takes writes all through the copy;
// the seed script fills an empty data directory from it; the operator's own
// makeReplica (what act() runs for the new instance) gives the copy its
// source's binlog history and replicates it from the copy's position. The
// copy then holds exactly the writer's rows (counts and checksums of every
// table) and keeps replicating. The seed time is printed. The operator's own
// client of the endpoint (donor-client.ts) is checked against it too.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import * as mariadb from 'mariadb';
import { donorListenScript, seedMarkers, seedScript } from '../../src/controllers/cluster/managed/builders/seed.ts';
import { DonorRequestError, sendDonorCommand } from '../../src/controllers/cluster/managed/replication/donor-client.ts';
import type { InstanceAccess, ReplicationSettings } from '../../src/controllers/cluster/managed/replication/instance-access.ts';
import { makeReplica } from '../../src/controllers/cluster/managed/replication/sql-steps.ts';
import { MySQLClient } from '../../src/mysql/client.ts';
import { formatGtidList, parseGtidState } from '../../src/replication/gtid.ts';
import { startMariaDB, stopMariaDB, type MariaDBInstance } from '../env/mariadb.ts';
import { freePort, isListening } from '../env/ports.ts';
import { startProcess, stopProcess, waitUntil, type StartedProcess } from '../env/processes.ts';

const replication = { user: 'flightdeck_replication', password: 'a replication secret' };
/** What every instance of a managed cluster runs with (config.ts operatorOptions), on the command line since test servers read no option file. */
const serverOptions = (serverId: number): string[] => [
  `--server-id=${serverId}`,
  '--log-bin=mariadb-bin',
  '--binlog-format=ROW',
  '--log-slave-updates=ON',
  '--gtid-strict-mode=ON',
  '--skip-slave-start',
];
const rows = 20_000;

const dir = mkdtempSync(join(tmpdir(), 'flightdeck-seed-copy-'));
let donor: MariaDBInstance;
let copy: MariaDBInstance | undefined;
let endpoint: StartedProcess;
let donorPort: number;
const clients = new Map<string, MySQLClient>();

async function sql(instance: MariaDBInstance, statement: string, values: unknown[] = []): Promise<Record<string, unknown>[]> {
  const conn = await mariadb.createConnection({ host: instance.host, port: instance.port, user: instance.adminUser, password: instance.adminPassword });
  try {
    return await conn.query<Record<string, unknown>[]>(statement, values);
  } finally {
    await conn.end();
  }
}

/** Row counts and content checksums of both tables; equal on two servers only when their data is. */
async function fingerprint(instance: MariaDBInstance): Promise<string> {
  const counts = await sql(instance, 'SELECT (SELECT COUNT(*) FROM seedtest.t) AS t, (SELECT SUM(CRC32(CONCAT(id, pad))) FROM seedtest.t) AS tsum, (SELECT COUNT(*) FROM seedtest.w) AS w, (SELECT COALESCE(SUM(n), 0) FROM seedtest.w) AS wsum');
  const checksums = await sql(instance, 'CHECKSUM TABLE seedtest.t, seedtest.w EXTENDED');
  return JSON.stringify({ counts, checksums }, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

function runAsync(command: string, args: readonly string[], options: { env: NodeJS.ProcessEnv }): Promise<{ status: number | null; stderr: string }> {
  const child = spawn(command, args, { env: options.env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (status) => {
      resolve({ status, stderr });
    });
  });
}

describe('seeding a replica from a streamed copy of a writer under load', { timeout: 300_000 }, () => {
  before(async () => {
    donor = await startMariaDB({ dir, name: 'donor', extraArgs: serverOptions(1) });
    await sql(donor, 'CREATE USER ?@? IDENTIFIED BY ?', [replication.user, '%', replication.password]);
    await sql(donor, 'GRANT REPLICATION SLAVE ON *.* TO ?@?', [replication.user, '%']);
    await sql(donor, 'CREATE DATABASE seedtest');
    await sql(donor, 'CREATE TABLE seedtest.t (id INT PRIMARY KEY, pad VARCHAR(1000) NOT NULL)');
    await sql(donor, 'CREATE TABLE seedtest.w (n INT PRIMARY KEY)');
    for (let from = 0; from < rows; from += 1000) {
      await sql(donor, `INSERT INTO seedtest.t WITH RECURSIVE s(n) AS (SELECT ${from + 1} UNION ALL SELECT n + 1 FROM s WHERE n < ${from + 1000}) SELECT n, REPEAT(MD5(n), 30) FROM s`);
    }
    donorPort = await freePort();
    writeFileSync(join(dir, 'my.cnf'), '[mariadbd]\n');
    endpoint = startProcess({
      name: 'donor endpoint',
      command: 'bash',
      args: ['--norc', '--noprofile', '-c', donorListenScript()],
      logFile: join(dir, 'donor-endpoint.log'),
      env: {
        PATH: process.env.PATH,
        TMPDIR: dir,
        FLIGHTDECK_DATADIR: donor.dataDir,
        FLIGHTDECK_MY_CNF: join(dir, 'my.cnf'),
        FLIGHTDECK_SOCKET: donor.socket,
        FLIGHTDECK_DONOR_PORT: String(donorPort),
        FLIGHTDECK_SEED_SECRET: replication.password,
        MARIADB_ROOT_PASSWORD: donor.adminPassword,
      },
    });
    await waitUntil('the donor endpoint to listen', () => isListening(donorPort), { timeoutMs: 10_000, process: endpoint });
  });

  after(async () => {
    await Promise.all([...clients.values()].map((c) => c.close()));
    await stopProcess(endpoint.pid);
    if (copy !== undefined) await stopMariaDB(copy);
    await stopMariaDB(donor);
    rmSync(dir, { recursive: true, force: true });
  });

  it('holds exactly the donor\'s data and replicates on from the copy\'s position, with writes running during the copy', async () => {
    // Writes all through the copy: one numbered row per transaction.
    let written = 0;
    const loadState = { writing: true };
    const load = (async () => {
      const conn = await mariadb.createConnection({ host: donor.host, port: donor.port, user: donor.adminUser, password: donor.adminPassword });
      try {
        while (loadState.writing) {
          written++;
          await conn.query('INSERT INTO seedtest.w (n) VALUES (?)', [written]);
        }
      } finally {
        await conn.end();
      }
    })();
    await sleep(300);

    const copyDir = join(dir, 'copy');
    mkdirSync(copyDir);
    writeFileSync(join(dir, 'donor-name'), '127.0.0.1');
    const writtenBefore = written;
    const started = performance.now();
    // Asynchronously: the write load runs in this process.
    const seed = await runAsync('bash', ['--norc', '--noprofile', '-c', seedScript()], {
      env: {
        PATH: process.env.PATH,
        TMPDIR: dir,
        FLIGHTDECK_DATADIR: copyDir,
        FLIGHTDECK_MY_CNF: join(dir, 'my.cnf'),
        FLIGHTDECK_DONOR_FILE: join(dir, 'donor-name'),
        FLIGHTDECK_DONOR_PORT: String(donorPort),
        FLIGHTDECK_POD_INDEX: '1',
        FLIGHTDECK_SEED_SECRET: replication.password,
        MARIADB_ROOT_PASSWORD: donor.adminPassword,
      },
    });
    const seedMs = performance.now() - started;
    const writtenDuring = written - writtenBefore;
    assert.equal(seed.status, 0, `the seed script failed:\n${seed.stderr}`);
    const seeded = /seeded from 127\.0\.0\.1 at GTID position (\S+) in \d+s/.exec(seed.stderr);
    assert.ok(seeded !== null, seed.stderr);
    const size = /received (\S+) in/.exec(seed.stderr)?.[1] ?? '?';
    process.stdout.write(`# seed copy: ${size} copied and prepared in ${(seedMs / 1000).toFixed(1)} s while ${writtenDuring} transactions were written\n`);
    assert.ok(writtenDuring > 0, 'writes ran during the copy');

    // The copy has the donor's accounts: its admin password too.
    writeFileSync(join(copyDir, 'flightdeck-admin-password'), donor.adminPassword, { mode: 0o600 });
    copy = await startMariaDB({ dir, name: 'copy', extraArgs: serverOptions(2) });
    const copyPosition = String((await sql(copy, 'SELECT @@gtid_slave_pos AS p'))[0]?.p);
    assert.equal(copyPosition, seeded[1], 'gtid_slave_pos is the copy\'s position');
    assert.equal(String((await sql(copy, 'SELECT @@gtid_binlog_state AS s'))[0]?.s), '', 'a fresh copy has no binary log yet');

    const instances = new Map([['donor', donor], ['copy', copy]]);
    const access: InstanceAccess = {
      client(instance) {
        const server = instances.get(instance);
        if (server === undefined) return undefined;
        let client = clients.get(instance);
        if (client === undefined) {
          client = MySQLClient.create({ host: server.host, port: server.port, user: server.adminUser, password: server.adminPassword });
          clients.set(instance, client);
        }
        return client;
      },
      discard(instance) {
        const client = clients.get(instance);
        clients.delete(instance);
        void client?.close();
      },
      replicationSource(instance) {
        const server = instances.get(instance);
        assert.ok(server !== undefined);
        return { host: server.host, port: server.port };
      },
      isGone: () => false,
      observe: () => Promise.reject(new Error('not needed here')),
    };
    const settings: ReplicationSettings = {
      semiSync: false,
      semiSyncTimeoutMs: 10_000,
      semiSyncWaitNoReplica: false,
      replicationUser: replication.user,
      replicationPassword: replication.password,
      sparedUsers: [],
    };
    // As act() configures a new replica (configureReplicas, fromOwnBinlog).
    await makeReplica(access, 'copy', 'donor', settings, new AbortController().signal, { fromOwnBinlog: true });
    const history = parseGtidState(String((await sql(copy, 'SELECT @@gtid_binlog_state AS s'))[0]?.s));
    assert.ok(history.some((g) => g.server === 1), `the copy took its source's binlog history: ${formatGtidList(history)}`);

    await sleep(500);
    loadState.writing = false;
    await load;
    // One more write after the load: it must arrive by replication.
    await sql(donor, 'INSERT INTO seedtest.w (n) VALUES (?)', [1_000_000]);
    const target = String((await sql(donor, 'SELECT @@gtid_binlog_pos AS p'))[0]?.p);
    const reached = await sql(copy, 'SELECT MASTER_GTID_WAIT(?, 60) AS r', [target]);
    assert.equal(Number(reached[0]?.r), 0, `the copy reached ${target}`);
    const [status] = await sql(copy, 'SHOW SLAVE STATUS');
    assert.ok(status !== undefined, 'the copy replicates');
    assert.equal(status.Slave_SQL_Running, 'Yes', String(status.Last_SQL_Error));
    assert.equal(status.Last_SQL_Errno, 0);
    assert.equal(await fingerprint(copy), await fingerprint(donor));
    const count = await sql(copy, 'SELECT COUNT(*) AS c FROM seedtest.w');
    assert.equal(Number(count[0]?.c), written + 1);
  });

  it("the operator's rebuild request marks the donor's own data directory, and only with the secret", async () => {
    const marker = join(donor.dataDir, seedMarkers.rebuild);
    const signal = new AbortController().signal;
    await assert.rejects(sendDonorCommand('127.0.0.1', donorPort, 'a guess', 'rebuild', signal), (error: Error) => {
      assert.ok(error instanceof DonorRequestError);
      assert.match(error.message, /refused rebuild: denied/);
      assert.doesNotMatch(error.message, /a guess/);
      return true;
    });
    assert.equal(existsSync(marker), false);
    await sendDonorCommand('127.0.0.1', donorPort, replication.password, 'rebuild', signal);
    assert.equal(existsSync(marker), true);
    rmSync(marker);
  });

  it('a wrong secret gets no copy', () => {
    const emptyDir = join(dir, 'refused');
    mkdirSync(emptyDir);
    const result = spawnSync('bash', ['--norc', '--noprofile', '-c', seedScript()], {
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH,
        TMPDIR: dir,
        FLIGHTDECK_DATADIR: emptyDir,
        FLIGHTDECK_DONOR_FILE: join(dir, 'donor-name'),
        FLIGHTDECK_DONOR_PORT: String(donorPort),
        FLIGHTDECK_POD_INDEX: '2',
        FLIGHTDECK_SEED_SECRET: 'a guess',
        MARIADB_ROOT_PASSWORD: 'unused',
      },
      timeout: 30_000,
    });
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /the donor 127\.0\.0\.1 refused: denied/);
  });
});
