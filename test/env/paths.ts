// Where the environment keeps things: the checkout, the build cache (shared by
// checkouts, keyed by version) and per-checkout state.
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Built binaries and prepared data directories, reused across runs. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.FLIGHTDECK_CACHE ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'flightdeck');
}

/** State of `flightdeck dev up`: per checkout, or FLIGHTDECK_DEV_STATE (tests use their own). */
export const devStateDir = process.env.FLIGHTDECK_DEV_STATE ?? join(repoRoot, '.flightdeck', 'dev');
