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
 * - `--optimize-for-size`: V8's mode that favours memory over speed (a young
 *   generation of 1 MiB, an old generation that grows little past what is
 *   live). Left to its defaults V8 lets the young generation grow to 2 × 64
 *   MiB in a burst of reconciles and keeps the old generation's garbage, and
 *   none of it is given back while the operator rests: with 5 000 objects
 *   reconciled, 241 MiB resident by default, 135–156 MiB with
 *   `--max-semi-space-size=8`, 112–127 MiB in this mode (bench/, at rest).
 *   It costs CPU in bursts (about a third more operator CPU while 1 000
 *   objects are created); an operator spends most of its life at rest.
 * - `MALLOC_ARENA_MAX=2`: glibc gives each thread that allocates its own
 *   malloc arena; two are plenty for Node's few native threads.
 */
export const operatorRuntime = {
  nodeFlags: ['--optimize-for-size'],
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
