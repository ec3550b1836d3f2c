import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { clusterIntent } from '../../../../api/normalize.ts';
import { clusterNames } from './names.ts';
import { donorContainer, donorHandlerScript, donorListenScript, donorSidecar, podInfoVolume, seedDonorAnnotation, seedInitContainer, seedMarkers, seedScript } from './seed.ts';
import { paths, statefulSet } from './statefulset.ts';

const intent = clusterIntent({ apiVersion: 'flightdeck.t7.io/v1', kind: 'MySQLCluster', metadata: { name: 'db', namespace: 'shop' }, spec: { readerCount: 2, size: '1Gi' } });
const managed = intent.managed;
assert.ok(managed);
const names = clusterNames('db', managed);
const input = { names, managed, mounts: paths };

const work = mkdtempSync(join(tmpdir(), 'flightdeck-seed-test-'));
after(() => {
  rmSync(work, { recursive: true, force: true });
});

function bash(script: string, env: Record<string, string>, stdin = ''): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync('bash', ['--norc', '--noprofile', '-c', script], { input: stdin, encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', TMPDIR: work, ...env }, timeout: 20_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('seed containers', () => {
  it('the init container and the donor sidecar get the passwords from the credentials Secret, never as values', () => {
    for (const container of [seedInitContainer(input), donorSidecar(input)] as { env: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[] }[]) {
      const secretEnv = Object.fromEntries(container.env.filter((e) => e.valueFrom?.secretKeyRef !== undefined).map((e) => [e.name, e.valueFrom?.secretKeyRef]));
      assert.deepEqual(secretEnv, {
        MARIADB_ROOT_PASSWORD: { name: 'db-credentials', key: 'root-password' },
        FLIGHTDECK_SEED_SECRET: { name: 'db-credentials', key: 'replication-password' },
      });
      assert.ok(container.env.every((e) => e.value === undefined || !/password/i.test(e.name)));
    }
  });

  it('the donor listens on its own port with the data directory, my.cnf and the socket mounted as mariadbd has them', () => {
    const sidecar = donorSidecar(input) as { ports: { containerPort: number }[]; volumeMounts: { name: string; mountPath: string }[] };
    assert.deepEqual(sidecar.ports.map((p) => p.containerPort), [donorContainer.port]);
    assert.deepEqual(sidecar.volumeMounts.map((m) => [m.name, m.mountPath]), [
      ['data', '/var/lib/mysql'],
      ['config', '/etc/mysql/flightdeck'],
      ['run', '/run/mysqld'],
    ]);
  });

  it('the init container reads the donor from the pod annotation and resolves it through the headless Service', () => {
    const init = seedInitContainer(input) as { env: { name: string; value?: string }[]; volumeMounts: { name: string; mountPath: string }[] };
    assert.equal(init.env.find((e) => e.name === 'FLIGHTDECK_DONOR_DOMAIN')?.value, 'db-instances');
    assert.ok(init.volumeMounts.some((m) => m.name === 'podinfo' && m.mountPath === '/etc/flightdeck/pod'));
    assert.deepEqual(podInfoVolume(), {
      name: 'podinfo',
      downwardAPI: { items: [{ path: 'seed-donor', fieldRef: { fieldPath: `metadata.annotations['${seedDonorAnnotation}']` } }] },
    });
  });

  it('the StatefulSet runs them: the seed before mariadbd, the donor beside it', () => {
    const sts = statefulSet({ owner: { name: 'db', namespace: 'shop', uid: 'u' }, names, managed, config: { restartChecksum: 'x' }, nodeCount: 3 });
    const spec = sts.spec.template.spec as { initContainers: { name: string }[]; containers: { name: string }[]; volumes: { name: string }[] };
    assert.deepEqual(spec.initContainers.map((c) => c.name), ['seed']);
    assert.deepEqual(spec.containers.map((c) => c.name), ['mariadb', 'donor']);
    assert.ok(spec.volumes.some((v) => v.name === 'podinfo'));
  });

  it('the scripts are valid bash', () => {
    for (const script of [seedScript(), donorHandlerScript(), donorListenScript()]) {
      const result = spawnSync('bash', ['-n', '-c', script], { encoding: 'utf8' });
      assert.equal(result.status, 0, result.stderr);
    }
  });
});

describe('bootstrap from a physical backup', () => {
  const bootstrapped = clusterIntent({
    apiVersion: 'flightdeck.t7.io/v1',
    kind: 'MySQLCluster',
    metadata: { name: 'db', namespace: 'shop' },
    spec: {
      readerCount: 1,
      bootstrapFrom: {
        backup: {
          target: { s3: { endpoint: 'https://s3.example.com', bucket: 'backups', prefix: 'agency', credentialsSecret: { name: 's3-creds' }, tls: { caSecret: { name: 'store-ca' } } } },
          path: 'old/nightly/20261201T020000Z',
          encryption: { secretKeyRef: { name: 'backup-key' } },
        },
      },
    },
  }).managed;
  assert.ok(bootstrapped);
  type Env = { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  const envOf = (container: Record<string, unknown>): Record<string, string> =>
    Object.fromEntries((container.env as Env).map((e) => [e.name, e.value ?? `secret:${e.valueFrom?.secretKeyRef?.name ?? ''}/${e.valueFrom?.secretKeyRef?.key ?? ''}`]));

  it('gives the seed init container the backup location, the store keys, the backup key and CA and the hashes of the system accounts, as references', () => {
    const vars = envOf(seedInitContainer({ names: clusterNames('db', bootstrapped), managed: bootstrapped, mounts: paths }));
    assert.equal(vars.FLIGHTDECK_BOOTSTRAP_LOCATION, 'target:backups/agency/old/nightly/20261201T020000Z');
    assert.equal(vars.RCLONE_CONFIG_TARGET_TYPE, 's3');
    assert.equal(vars.RCLONE_CONFIG_TARGET_ENDPOINT, 'https://s3.example.com');
    assert.equal(vars.RCLONE_CONFIG_TARGET_ACCESS_KEY_ID, 'secret:s3-creds/AWS_ACCESS_KEY_ID');
    assert.equal(vars.FLIGHTDECK_BOOTSTRAP_KEY, 'secret:backup-key/key');
    assert.equal(vars.FLIGHTDECK_BOOTSTRAP_CA, 'secret:store-ca/ca.crt');
    assert.equal(vars.FLIGHTDECK_ROOT_PASSWORD_HASH, 'secret:db-credentials/root-password-hash');
    assert.equal(vars.FLIGHTDECK_INITDB_SQL, 'secret:db-credentials/initdb.sql');
    assert.equal(vars.RCLONE_CA_CERT, undefined, 'the CA is written by the script, not mounted');
  });

  it('gives a cluster without bootstrapFrom none of it', () => {
    const vars = envOf(seedInitContainer(input));
    assert.deepEqual(Object.keys(vars).filter((n) => n.startsWith('FLIGHTDECK_BOOTSTRAP') || n.startsWith('RCLONE')), []);
  });

  it('resets the system accounts to the new Secret without grant tables, and starts a history of its own', () => {
    const script = seedScript();
    assert.match(script, /start_seed_server --skip-grant-tables/);
    const drop = script.split('\n').find((line) => line.includes('DROP USER'));
    assert.ok(drop !== undefined);
    assert.equal(bash(drop, {}).stdout, "DROP USER IF EXISTS 'flightdeck_operator'@'%', 'flightdeck_manager'@'%', 'flightdeck_replication'@'%', 'root'@'%';\n");
    assert.match(script, /RESET SLAVE ALL; RESET MASTER; SET GLOBAL gtid_slave_pos = \x27\x27;/);
    // Only instance 0, only with an empty data directory, only while no other instance runs.
    assert.match(script, /elif \[ "\$ordinal" = 0 \] && \[ -n "\$\{FLIGHTDECK_BOOTSTRAP_LOCATION:-\}" \]; then\n {2}if other_instances_run; then/);
  });
});

describe('donor handler', () => {
  const secret = 'replication secret';
  const datadir = join(work, 'donor-data');
  mkdirSync(datadir, { recursive: true });
  const env = { FLIGHTDECK_DATADIR: datadir, FLIGHTDECK_SEED_SECRET: secret, MARIADB_ROOT_PASSWORD: 'unused' };

  /**
   * Runs the handler as a coprocess of bash, which reads its greeting and
   * answers with the proof for `proofSecret` and `command`, the way the seed
   * script and the operator do.
   */
  function exchangeWith(command: string, proofSecret: string): { reply: string; stderr: string } {
    const script = [
      `coproc HANDLER { bash --norc --noprofile -c ${shellQuote(donorHandlerScript())}; }`,
      'IFS=" " read -r banner version nonce <&"${HANDLER[0]}"',
      'echo "greeting:$banner $version"',
      'proof="$(printf "%s:%s" "$nonce" "$PROOF_SECRET" | sha256sum)"',
      `printf "%s %s\\n" "\${proof%% *}" ${shellQuote(command)} >&"\${HANDLER[1]}"`,
      'IFS= read -r reply <&"${HANDLER[0]}"; echo "reply:$reply"',
      'wait "$HANDLER_PID" || true',
    ].join('\n');
    const result = bash(script, { ...env, PROOF_SECRET: proofSecret });
    return { reply: result.stdout, stderr: result.stderr };
  }

  it('refuses a client that does not know the secret, and leaves the data directory alone', () => {
    const { reply, stderr } = exchangeWith('rebuild', 'a guess');
    assert.match(reply, /^greeting:flightdeck-donor 1$/m);
    assert.match(reply, /^reply:denied$/m);
    assert.match(stderr, /refused .*: wrong proof/);
    assert.equal(existsSync(join(datadir, seedMarkers.rebuild)), false);
  });

  it('marks its data directory for a rebuild when a client with the secret asks', () => {
    const { reply } = exchangeWith('rebuild', secret);
    assert.match(reply, /^reply:ok rebuild$/m);
    assert.equal(existsSync(join(datadir, seedMarkers.rebuild)), true);
  });

  it('refuses an unknown command', () => {
    const { reply } = exchangeWith('drop-everything', secret);
    assert.match(reply, /^reply:unknown$/m);
  });
});

describe('seed script', () => {
  function datadirWith(name: string, files: readonly string[]): string {
    const dir = join(work, name);
    mkdirSync(dir, { recursive: true });
    for (const file of files) {
      const path = join(dir, file);
      if (file.endsWith('/')) mkdirSync(path, { recursive: true });
      else writeFileSync(path, 'x');
    }
    return dir;
  }
  function run(datadir: string, ordinal: string, donor = '') {
    const donorPath = join(work, `donor-of-${ordinal}-${Math.random()}`);
    writeFileSync(donorPath, donor);
    // Port 9 (discard) is closed on loopback: a named donor fails to connect at once.
    return bash(seedScript(), {
      FLIGHTDECK_DATADIR: datadir,
      FLIGHTDECK_POD_INDEX: ordinal,
      FLIGHTDECK_DONOR_FILE: donorPath,
      FLIGHTDECK_DONOR_PORT: '9',
      FLIGHTDECK_SEED_SECRET: 's',
      MARIADB_ROOT_PASSWORD: 'r',
    });
  }

  it('leaves a data directory with data alone', () => {
    const dir = datadirWith('has-data', ['mysql/', 'ibdata1']);
    const result = run(dir, '2');
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(readdirSync(dir).sort(), ['ibdata1', 'mysql']);
  });

  it('leaves instance 0 with an empty data directory to the entrypoint (a new cluster)', () => {
    const dir = datadirWith('empty-0', []);
    const result = run(dir, '0');
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stderr, /the entrypoint initialises it/);
  });

  it('discards data marked for a rebuild, also on instance 0, and copies from the named donor', () => {
    const dir = datadirWith('rebuild-0', ['mysql/', 'ibdata1', seedMarkers.rebuild, 'lost+found/']);
    const result = run(dir, '0', '127.0.0.1');
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /discarding the data directory, as the operator asked/);
    assert.match(result.stderr, /copying from 127\.0\.0\.1:9/);
    assert.match(result.stderr, /cannot connect to the donor 127\.0\.0\.1:9/);
    // The half-made state is marked, so the next start discards it again instead of starting a server on it.
    assert.deepEqual(readdirSync(dir).sort(), [seedMarkers.seeding, 'lost+found']);
  });

  it('starts a copy cut short over again', () => {
    const dir = datadirWith('cut-short', ['mysql/', 'ibdata1', seedMarkers.seeding]);
    const result = run(dir, '1', '127.0.0.1');
    assert.match(result.stderr, /an earlier copy did not finish: discarding it/);
    assert.deepEqual(readdirSync(dir), [seedMarkers.seeding]);
  });

  it('refuses a donor name that is not a host name', () => {
    const dir = datadirWith('bad-donor', []);
    const result = run(dir, '1', 'db-1; rm -rf /');
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /invalid name/);
  });
});

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
