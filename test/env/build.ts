// The operator compiled to JavaScript by tsconfig.build.json — what the image
// runs (docs/image.md) — for the image builder and for tests that run the
// operator as shipped rather than from its .ts sources.
import { execFile } from 'node:child_process';
import { existsSync, globSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './paths.ts';

/**
 * How the image runs Node for the operator (the Dockerfile says the same;
 * test/integration/operator-build.test.ts checks it):
 *
 * - `--max-semi-space-size=8`: left to itself V8 grows the young generation
 *   to 2 × 64 MiB in a burst of reconciles and keeps it; 8 MiB semi-spaces
 *   hold it at 16 MiB (smaller ones promote more short-lived objects into
 *   the old generation: 4 MiB was worse, and `--optimize-for-size` cost a
 *   third more operator CPU in bursts).
 * - `--expose-gc`: lets src/runtime/rest-compaction.ts give the heap a burst
 *   left behind back once the operator is at rest (nothing allocates at
 *   rest, so nothing collects it otherwise).
 * - `MALLOC_ARENA_MAX=2`: glibc gives each thread that allocates its own
 *   malloc arena; two are plenty for Node's few native threads.
 *
 * Measured with 5 000 objects just reconciled (bench/): 241 MiB resident
 * with V8's defaults, 135–156 MiB with 8 MiB semi-spaces, ~110 MiB once
 * compacted at rest.
 */
export const operatorRuntime = {
  nodeFlags: ['--max-semi-space-size=8', '--expose-gc'],
  env: { MALLOC_ARENA_MAX: '2' },
} as const;

/** The checkout's build output, as `npm run build` writes it. */
export const distDir = join(repoRoot, 'dist');

/**
 * The checkout's files the build reads, relative to the checkout: the
 * sources without tests, the compiler settings, and package.json ("type":
 * "module" decides the module format) and package-lock.json (which TypeScript
 * compiles). Sorted, so that a hash over them is stable.
 */
export function buildInputs(): string[] {
  const sources = globSync('src/**/*.ts', { cwd: repoRoot }).filter((file) => !file.endsWith('.test.ts'));
  return ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', ...sources].sort();
}

/**
 * Compiles the operator into `outDir` (dist/ by default) with the checkout's
 * tsc on the checkout's Node 24 (the machine's node may be older). Rejects
 * with tsc's diagnostics; thanks to noEmitOnError a failed build writes
 * nothing.
 */
export function buildOperator(outDir: string = distDir): Promise<void> {
  const node = join(repoRoot, 'node_modules/.bin/node');
  const tsc = join(repoRoot, 'node_modules/.bin/tsc');
  return new Promise((resolve, reject) => {
    execFile(node, [tsc, '-p', 'tsconfig.build.json', '--outDir', outDir], { cwd: repoRoot }, (error, stdout, stderr) => {
      if (error === null) resolve();
      else reject(new Error(`tsc -p tsconfig.build.json failed:\n${stdout}${stderr}`, { cause: error }));
    });
  });
}

let built: Promise<string> | undefined;

/**
 * dist/cli/main.js, built first when it is missing or older than a build
 * input. tsc rewrites every output file, so main.js's time is the last
 * build's. At most once per process: later calls share the first result.
 */
export function builtOperator(): Promise<string> {
  built ??= (async () => {
    const main = join(distDir, 'cli/main.js');
    const newestInput = Math.max(...buildInputs().map((file) => statSync(join(repoRoot, file)).mtimeMs));
    if (!existsSync(main) || statSync(main).mtimeMs < newestInput) await buildOperator();
    return main;
  })();
  return built;
}
