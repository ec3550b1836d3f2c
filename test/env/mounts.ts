// Mount points under a directory, and unmounting them: the local cluster
// (kubelet volumes, containerd's rootfs overlays) and image builds (a chroot's
// /proc) mount things, and removing a directory with a live mount inside would
// reach into the mounted file system.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve, sep } from 'node:path';

/** Undoes the octal escapes (`\040` for a space) of /proc/self/mountinfo. */
function unescapeMountPath(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/** Mount points at or below `dir` in this mount namespace, deepest first. */
export function mountsUnder(dir: string): string[] {
  const root = resolve(dir);
  const points = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((p): p is string => p !== undefined)
    .map(unescapeMountPath)
    .filter((p) => p === root || p.startsWith(root + sep));
  // Deeper first, and a mount point mounted twice is unmounted twice.
  return points.sort((a, b) => b.split(sep).length - a.split(sep).length);
}

/**
 * Unmounts everything at or below `dir`; a busy mount is detached lazily, so
 * the call does not fail because a process still has a file open there.
 * Returns the mount points it unmounted.
 */
export function unmountUnder(dir: string): string[] {
  const points = mountsUnder(dir);
  for (const point of points) {
    try {
      execFileSync('umount', [point], { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch {
      execFileSync('umount', ['--lazy', point], { stdio: ['ignore', 'ignore', 'pipe'] });
    }
  }
  return points;
}
