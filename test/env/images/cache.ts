// Build results kept under the cache directory, keyed by a hash of their
// inputs: a directory or file is built once per key and reused until an input
// changes, across runs and checkouts.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { unmountUnder } from '../mounts.ts';
import { cacheDir } from '../paths.ts';

/** A short hash of the given inputs: strings, or file contents for `{ file }`. */
export function inputKey(inputs: readonly (string | { readonly file: string })[]): string {
  const hash = createHash('sha256');
  for (const input of inputs) {
    hash.update(typeof input === 'string' ? input : readFileSync(input.file));
    hash.update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

/** `~/.cache/flightdeck/images`, where root file systems, layers and image archives are kept. */
export function imageCacheDir(): string {
  return join(cacheDir(), 'images');
}

/**
 * The cached entry `<name>-<key>` (a directory or a file), built by `build`
 * into a temporary path when it is missing. The temporary path is renamed into
 * place only after `build` returns, so an interrupted build leaves nothing that
 * looks complete, and two concurrent builds of the same entry both succeed
 * (the second result is dropped).
 */
export async function cachedEntry(name: string, key: string, build: (path: string) => Promise<void> | void): Promise<string> {
  const dir = imageCacheDir();
  mkdirSync(dir, { recursive: true });
  const final = join(dir, `${name}-${key}`);
  if (existsSync(final)) return final;
  const building = `${final}.tmp-${process.pid}`;
  try {
    await build(building);
    try {
      renameSync(building, final);
    } catch (error) {
      if (!existsSync(final)) throw error;
    }
  } finally {
    if (existsSync(building)) {
      unmountUnder(building);
      rmSync(building, { recursive: true, force: true });
    }
  }
  return final;
}
