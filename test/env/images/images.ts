// The container images of the local cluster, built on this machine (no
// registry is reachable) and cached as OCI archives under
// ~/.cache/flightdeck/images, keyed by their inputs:
//
//   registry.k8s.io/pause:3.10        the sandbox image: the pause program of test/env/kubebuild
//   flightdeck.local/mariadb:10.11    Debian's mariadb-server, mariadb-backup and socat on a debootstrap root file system
//   flightdeck.local/operator:dev     Node.js 24 and this checkout's operator, compiled (operatorImage)
//
// Manifests use them with `imagePullPolicy: IfNotPresent`; the nodes import
// the archives into containerd's k8s.io namespace at start.
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, realpathSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { buildInputs, buildOperator, operatorRuntime } from '../build.ts';
import { repoRoot } from '../paths.ts';
import { cachedEntry, inputKey } from './cache.ts';
import { writeLayer, writeOciArchive, type ImageConfig } from './oci.ts';
import { debianBase, debianRootfs } from './rootfs.ts';

/** An image archive ready for `ctr images import`, and the name it imports as. */
export interface LocalImage {
  readonly name: string;
  readonly archive: string;
}

/** The sandbox image; containerd's `sandbox_image` names it, so it must be exactly this. */
export const pauseImageName = 'registry.k8s.io/pause:3.10';
export const mariadbImageName = 'flightdeck.local/mariadb:10.11';
export const operatorImageName = 'flightdeck.local/operator:dev';

const basePath = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** One layer per root file system, cached beside it (its key is the root file system's cached path). */
function layerOf(name: string, root: string): Promise<string> {
  return cachedEntry(`layer-${name}`, inputKey([root]), (file) => {
    writeLayer(root, file);
  });
}

function archiveOf(name: string, layers: readonly string[], config: ImageConfig): Promise<LocalImage> {
  const key = inputKey([name, JSON.stringify(config), ...layers]);
  const slug = name.replace(/[^a-z0-9.]+/g, '-');
  return cachedEntry(`image-${slug}`, key, (file) => {
    writeOciArchive({ name, layers, config }, file);
  }).then((archive) => ({ name, archive }));
}

/**
 * The pause image: one static binary that holds a pod's namespaces and exits
 * on SIGTERM. `binDir` is the output of test/env/kubebuild/build.sh.
 */
export async function pauseImage(binDir: string): Promise<LocalImage> {
  const binary = join(binDir, 'pause');
  const layer = await cachedEntry('layer-pause', inputKey([{ file: binary }]), (file) => {
    const root = `${file}.root`;
    rmSync(root, { recursive: true, force: true });
    mkdirSync(root);
    copyFileSync(binary, join(root, 'pause'));
    try {
      writeLayer(root, file);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
  return archiveOf(pauseImageName, [layer], { entrypoint: ['/pause'], user: '65535:65535' });
}

const mariadbFiles = join(repoRoot, 'test/env/images/mariadb');

/**
 * MariaDB 10.11 from Debian's archive, with an entrypoint that honours the
 * official image's MARIADB_* variables (see mariadb/docker-entrypoint.sh),
 * the data in /var/lib/mysql, `/run/mysqld` present, and the server running as
 * mysql (uid and gid 999, as in the official image). The `mariadb` client is
 * in it too, and `mariadb-backup` and `socat` to stream a copy of the data
 * from one instance to another. `flightdeck-backup` is the work of backup and
 * restore Jobs.
 */
export async function mariadbImage(): Promise<LocalImage> {
  const root = await debianRootfs({
    name: 'mariadb',
    // The official image's ids, so fsGroup and runAsUser values carry over.
    before: 'groupadd --system --gid 999 mysql && useradd --system --uid 999 --gid 999 --home-dir /var/lib/mysql --no-create-home --shell /usr/sbin/nologin mysql',
    // mariadb-backup and socat: a new replica is seeded from a consistent copy of another instance's data, streamed between pods.
    // rclone, jq, zstd, openssl: the backup and restore Jobs' script (mariadb/flightdeck-backup.sh) writes to S3 or a volume with one tool.
    packages: ['mariadb-server', 'mariadb-client', 'mariadb-backup', 'socat', 'rclone', 'jq', 'zstd', 'openssl', 'ca-certificates'],
    files: {
      'usr/local/bin/docker-entrypoint.sh': join(mariadbFiles, 'docker-entrypoint.sh'),
      'usr/local/bin/flightdeck-backup': join(mariadbFiles, 'flightdeck-backup.sh'),
      'etc/mysql/mariadb.conf.d/99-container.cnf': join(mariadbFiles, 'container.cnf'),
    },
    // The package initialised a data directory; the entrypoint makes one with the pod's accounts instead.
    after: [
      'rm -rf /var/lib/mysql && mkdir -p /var/lib/mysql /run/mysqld /docker-entrypoint-initdb.d',
      'chown mysql:mysql /var/lib/mysql /run/mysqld',
      'chmod 0755 /usr/local/bin/docker-entrypoint.sh /usr/local/bin/flightdeck-backup',
    ].join(' && '),
  });
  const layer = await layerOf('mariadb', root);
  return archiveOf(mariadbImageName, [layer], {
    entrypoint: ['docker-entrypoint.sh'],
    cmd: ['mariadbd'],
    env: [`PATH=${basePath}`, 'LANG=C.UTF-8'],
    exposedPorts: ['3306/tcp'],
    volumes: ['/var/lib/mysql'],
  });
}

/**
 * The operator image: Node.js 24 (the binary of the `node` npm package this
 * checkout uses) and the operator compiled to JavaScript (tsconfig.build.json)
 * with production dependencies, on the Debian base. Two layers, so a change
 * of the sources leaves the base layer as it was. Runs
 * `node /app/dist/cli/main.js operator` as uid 65532, needing no writable
 * path, so it can run with a read-only root file system.
 *
 * Rebuilt when a build input (the sources, the compiler settings,
 * package.json, package-lock.json) or the Node binary changes. The build
 * writes into the layer's own directory, never into the checkout's dist/,
 * so the image holds exactly what the current sources compile to.
 */
export async function operatorImage(): Promise<LocalImage> {
  const base = await debianBase();
  const baseLayer = await layerOf('debian-base', base);
  const node = realpathSync(join(repoRoot, 'node_modules/.bin/node'));
  const inputs = buildInputs();
  // Production dependencies depend only on the lock file: installed once per lock.
  const modules = await cachedEntry('operator-node-modules', inputKey([{ file: join(repoRoot, 'package-lock.json') }]), (dir) => {
    mkdirSync(dir, { recursive: true });
    copyFileSync(join(repoRoot, 'package.json'), join(dir, 'package.json'));
    copyFileSync(join(repoRoot, 'package-lock.json'), join(dir, 'package-lock.json'));
    execFileSync('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], {
      cwd: dir,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  });
  const appKey = inputKey([{ file: node }, modules, ...inputs.flatMap((f) => [f, { file: join(repoRoot, f) }])]);
  const appLayer = await cachedEntry('layer-operator-app', appKey, async (file) => {
    const root = `${file}.root`;
    rmSync(root, { recursive: true, force: true });
    try {
      mkdirSync(join(root, 'usr/local/bin'), { recursive: true });
      copyFileSync(node, join(root, 'usr/local/bin/node'));
      await buildOperator(join(root, 'app/dist'));
      // "type": "module" makes Node load dist/ as ES modules.
      for (const file of ['package.json', 'package-lock.json']) copyFileSync(join(repoRoot, file), join(root, 'app', file));
      cpSync(join(modules, 'node_modules'), join(root, 'app/node_modules'), { recursive: true, verbatimSymlinks: true });
      writeLayer(root, file);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
  return archiveOf(operatorImageName, [baseLayer, appLayer], {
    // As the Dockerfile (docs/image.md): the chart passes only the operator's flags as args.
    entrypoint: ['/usr/local/bin/node', ...operatorRuntime.nodeFlags, '/app/dist/cli/main.js', 'operator'],
    env: [`PATH=${basePath}`, 'NODE_ENV=production', ...Object.entries(operatorRuntime.env).map(([key, value]) => `${key}=${value}`)],
    workingDir: '/app',
    user: '65532:65532',
  });
}

/** The images every node of the local cluster imports at start. */
export async function clusterImages(binDir: string): Promise<LocalImage[]> {
  return [await pauseImage(binDir), await mariadbImage()];
}
