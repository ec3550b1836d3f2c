// Debian root file systems for the local cluster's images: a minimal base
// made by `debootstrap` from Debian's archive (the only package source this
// machine reaches), and derivatives with packages installed in a chroot.
// Both are cached, keyed by their recipe; a change of the recipe rebuilds
// them, new package versions in the archive alone do not.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mountsUnder } from '../mounts.ts';
import { cachedEntry, inputKey } from './cache.ts';

export const debianSuite = 'bookworm';
/** Where debootstrap and apt fetch packages; FLIGHTDECK_DEBIAN_MIRROR changes it. */
const debianMirror = process.env.FLIGHTDECK_DEBIAN_MIRROR ?? 'http://deb.debian.org/debian';

/** Bump to rebuild every cached root file system after a change in this file. */
const recipeVersion = '2';

/** A clean environment for commands in the chroot: no proxies or locales of the caller leak in. */
const chrootEnv = {
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  DEBIAN_FRONTEND: 'noninteractive',
  LANG: 'C.UTF-8',
  HOME: '/root',
};

function run(command: string, args: readonly string[], env?: NodeJS.ProcessEnv): void {
  try {
    execFileSync(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env, maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const failure = error as { stdout?: Buffer; stderr?: Buffer };
    const output = `${failure.stdout?.toString() ?? ''}${failure.stderr?.toString() ?? ''}`.trimEnd().split('\n').slice(-30).join('\n');
    throw new Error(`${command} ${args.join(' ')} failed:\n${output}`, { cause: error });
  }
}

/** Runs a shell script inside `root` with /proc and /dev mounted, as package scripts expect. */
function inChroot(root: string, script: string): void {
  const proc = join(root, 'proc');
  const dev = join(root, 'dev');
  mkdirSync(proc, { recursive: true });
  mkdirSync(dev, { recursive: true });
  run('mount', ['-t', 'proc', 'proc', proc]);
  try {
    // Not --rbind: /dev's own submounts (pts, shm) are not needed and would be more to unmount.
    run('mount', ['--bind', '/dev', dev]);
    try {
      run('chroot', [root, '/bin/sh', '-euc', script], chrootEnv);
    } finally {
      run('umount', ['--lazy', dev]);
    }
  } finally {
    run('umount', ['--lazy', proc]);
  }
}

/** Leaves out of an image what only a package manager or a person reads. */
function trim(root: string): void {
  // Emptying directories that are still mounts would empty the host's /dev or /proc.
  const mounted = mountsUnder(root);
  if (mounted.length > 0) throw new Error(`refusing to trim ${root}: still mounted: ${mounted.join(', ')}`);
  for (const dir of ['var/lib/apt/lists', 'var/cache/apt', 'usr/share/doc', 'usr/share/man', 'usr/share/info', 'var/log', 'tmp']) {
    const path = join(root, dir);
    if (!existsSync(path)) continue;
    for (const entry of readdirSync(path)) rmSync(join(path, entry), { recursive: true, force: true });
  }
  // The runtime mounts its own /dev, /proc, /sys and resolv.conf.
  for (const entry of readdirSync(join(root, 'dev'))) rmSync(join(root, 'dev', entry), { recursive: true, force: true });
  rmSync(join(root, 'etc', 'resolv.conf'), { force: true });
}

/**
 * The minimal Debian root file system (`debootstrap --variant=minbase`),
 * built once and cached; returns its directory, which callers must not
 * change (they copy it).
 */
export function debianBase(): Promise<string> {
  const key = inputKey([recipeVersion, debianSuite, 'minbase']);
  return cachedEntry(`rootfs-debian-${debianSuite}-minbase`, key, (root) => {
    run('debootstrap', ['--variant=minbase', debianSuite, root, debianMirror]);
    // Point releases and security updates too, as the host has them.
    const security = debianMirror.replace(/\/debian\/?$/, '/debian-security');
    writeFileSync(
      join(root, 'etc/apt/sources.list'),
      [
        `deb ${debianMirror} ${debianSuite} main`,
        `deb ${debianMirror} ${debianSuite}-updates main`,
        `deb ${security} ${debianSuite}-security main`,
        '',
      ].join('\n'),
    );
    trim(root);
  });
}

export interface DebianRootfsRecipe {
  /** Names the cache entry, e.g. `mariadb`. */
  readonly name: string;
  /** Debian packages installed with `apt-get install --no-install-recommends`. */
  readonly packages: readonly string[];
  /** Shell run in the chroot before the packages are installed (e.g. to fix a user's uid). */
  readonly before?: string;
  /** Shell run in the chroot after the packages are installed. */
  readonly after?: string;
  /** Files copied into the root file system: path in the image → file on this machine (mode kept). */
  readonly files?: Readonly<Record<string, string>>;
}

/**
 * The base with the recipe's packages and files, cached and keyed by the
 * recipe (file contents included); returns its directory.
 */
export async function debianRootfs(recipe: DebianRootfsRecipe): Promise<string> {
  const base = await debianBase();
  const files = Object.entries(recipe.files ?? {}).sort(([a], [b]) => a.localeCompare(b));
  const key = inputKey([
    recipeVersion,
    base,
    recipe.packages.join(' '),
    recipe.before ?? '',
    recipe.after ?? '',
    ...files.flatMap(([target, source]) => [target, { file: source }]),
  ]);
  return cachedEntry(`rootfs-${recipe.name}`, key, (root) => {
    // cp -a, not fs.cpSync: owners, hard links and extended attributes must survive.
    run('cp', ['-a', '--reflink=auto', base, root]);
    mkdirSync(join(root, 'dev'), { recursive: true });
    // Package scripts need name resolution and must not start daemons in the chroot.
    copyFileSync('/etc/resolv.conf', join(root, 'etc', 'resolv.conf'));
    const policy = join(root, 'usr', 'sbin', 'policy-rc.d');
    writeFileSync(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
    if (recipe.before !== undefined) inChroot(root, recipe.before);
    inChroot(root, `apt-get update -q && apt-get install -y -q --no-install-recommends ${recipe.packages.join(' ')} && apt-get clean`);
    for (const [target, source] of files) {
      const path = join(root, target);
      mkdirSync(join(path, '..'), { recursive: true });
      copyFileSync(source, path);
    }
    if (recipe.after !== undefined) inChroot(root, recipe.after);
    rmSync(policy);
    trim(root);
  });
}
