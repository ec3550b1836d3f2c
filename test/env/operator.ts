// Runs the operator from this checkout as its own process, as a user would
// (`flightdeck operator`), against a test environment's API server.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { builtOperator, operatorRuntime } from './build.ts';
import { repoRoot } from './paths.ts';
import { parseSamples, sumOf, type Sample } from './prometheus.ts';
import { startProcess, stopProcess, waitUntil, type StartedProcess } from './processes.ts';

export interface OperatorProcess extends StartedProcess {
  /** The port of /metrics, /healthz and /readyz. */
  readonly httpPort: number;
}

export interface StartOperatorOptions {
  kubeconfig: string;
  /** Where the log file goes. */
  dir: string;
  name?: string;
  /** Extra flags, e.g. ['--resync-interval', '2']. */
  args?: readonly string[];
  /** Wait for 'operator running' (leading, caches synced); false for a standby. */
  waitUntilRunning?: boolean;
  /**
   * 'source' (default): src/cli/main.ts, as ./bin/flightdeck runs it.
   * 'build': dist/cli/main.js, the compiled operator the image ships, built
   * first if dist/ is missing or stale, with the image's Node flags and
   * environment (operatorRuntime).
   */
  from?: 'source' | 'build';
}

export async function startOperator(options: StartOperatorOptions): Promise<OperatorProcess> {
  const name = options.name ?? 'operator';
  const shipped = options.from === 'build';
  const main = shipped ? await builtOperator() : join(repoRoot, 'src/cli/main.ts');
  const proc = startProcess({
    name,
    command: process.execPath,
    args: [...(shipped ? operatorRuntime.nodeFlags : []), main, 'operator', '--http-address', '127.0.0.1:0', ...(options.args ?? [])],
    logFile: join(options.dir, `${name}.log`),
    env: { ...process.env, ...(shipped ? operatorRuntime.env : {}), KUBECONFIG: options.kubeconfig },
    cwd: repoRoot,
  });
  const log = (): string => readFileSync(proc.logFile, 'utf8');
  let httpPort = 0;
  await waitUntil(
    `${name} to serve HTTP`,
    () => {
      const match = /"port":(\d+),"msg":"serving \/metrics/.exec(log());
      if (match?.[1] !== undefined) httpPort = Number(match[1]);
      return Promise.resolve(httpPort > 0);
    },
    { timeoutMs: 30_000, process: proc },
  );
  if (options.waitUntilRunning ?? true) {
    await waitUntil(`${name} to run its controllers`, () => Promise.resolve(log().includes('"msg":"operator running"')), {
      timeoutMs: 60_000,
      process: proc,
    });
  }
  return { ...proc, httpPort };
}

export function stopOperator(operator: StartedProcess, signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
  if (signal === 'SIGKILL') {
    try {
      process.kill(-operator.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  return stopProcess(operator.pid, 30_000);
}

/** The samples of the operator's /metrics now. */
export async function operatorSamples(operator: OperatorProcess): Promise<Sample[]> {
  return parseSamples(await (await fetch(`http://127.0.0.1:${operator.httpPort}/metrics`)).text());
}

/** A metric of the operator's /metrics, summed over the series whose labels include every pair of `where`. */
export async function operatorMetric(operator: OperatorProcess, name: string, where: Readonly<Record<string, string>> = {}): Promise<number> {
  return sumOf(await operatorSamples(operator), name, where);
}

/** SQL write statements the operator has sent, summed over verbs. */
export function sqlWrites(operator: OperatorProcess): Promise<number> {
  return operatorMetric(operator, 'flightdeck_sql_statements_total', { kind: 'write' });
}
