// `flightdeck operator`: the resident process. It serves /metrics, /healthz
// and /readyz, takes part in leader election, and while it leads runs the
// controllers. SIGTERM stops it gracefully: no new work, running reconciles
// finish, the lease is released so a standby takes over at once. Losing the
// lease is not graceful: running reconciles are aborted at once (another
// operator may already act on the same objects) and the process exits.
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { pino, type Logger } from 'pino';
import { Manager } from '../controllers/manager.ts';
import { startHttpServer } from '../runtime/http.ts';
import { loadKubeAccess } from '../runtime/kubeconfig.ts';
import { KubeTransport } from '../runtime/kube-request.ts';
import { LeaderElector } from '../runtime/leaderelection.ts';
import { OperatorMetrics } from '../runtime/metrics.ts';

export interface OperatorSettings {
  /** --kubeconfig; when absent, loadKubeAccess's search order applies. */
  kubeconfig: string | undefined;
  httpHost: string;
  httpPort: number;
  leaderElect: boolean;
  leaseNamespace: string;
  leaseName: string;
  identity: string;
  resyncIntervalMs: number;
  workers: number;
  maxRetryDelayMs: number;
  logLevel: string;
  backups: { maxConcurrent: number; jitterSeconds: number };
}

const usage = `usage: flightdeck operator [options]
  --kubeconfig FILE          the kubeconfig to use (default: $KUBECONFIG, ~/.kube/config, else the in-cluster service account)
  --http-address HOST:PORT   serve /metrics, /healthz, /readyz (default 0.0.0.0:8080; port 0 picks one)
  --leader-elect BOOL        take part in leader election on a Lease (default true)
  --lease-namespace NS       namespace of the Lease (default $POD_NAMESPACE, else default)
  --lease-name NAME          name of the Lease (default flightdeck-operator)
  --resync-interval SECONDS  check each object for drift this often (default 300)
  --workers N                reconciles at once per kind (default 32)
  --max-retry-delay SECONDS  cap of the retry backoff after errors (default 30)
  --log-level LEVEL          trace, debug, info, warn, error (default info)
  --backups-max-concurrent N backup Jobs that may run at once in the whole cluster (default 2)
  --backups-jitter SECONDS   scheduled backups start up to this long after their minute, each at its own offset (default 300)
`;

/** Reads the command line (and POD_NAMESPACE / HOSTNAME, the Downward API's usual names) once, here. */
export function parseOperatorSettings(args: readonly string[], env: NodeJS.ProcessEnv): OperatorSettings {
  const { values } = parseArgs({
    args: [...args],
    options: {
      kubeconfig: { type: 'string' },
      'http-address': { type: 'string', default: '0.0.0.0:8080' },
      'leader-elect': { type: 'string', default: 'true' },
      'lease-namespace': { type: 'string' },
      'lease-name': { type: 'string', default: 'flightdeck-operator' },
      'resync-interval': { type: 'string', default: '300' },
      workers: { type: 'string', default: '32' },
      'max-retry-delay': { type: 'string', default: '30' },
      'log-level': { type: 'string', default: 'info' },
      'backups-max-concurrent': { type: 'string', default: '2' },
      'backups-jitter': { type: 'string', default: '300' },
    },
    strict: true,
    allowPositionals: false,
  });
  const number = (name: string, value: string, min: number): number => {
    const parsed = Number(value);
    if (!Number.isFinite(parsed) || parsed < min) throw new Error(`--${name} must be a number ≥ ${min}, got ${JSON.stringify(value)}`);
    return parsed;
  };
  const address = values['http-address'];
  const colon = address.lastIndexOf(':');
  if (colon < 0) throw new Error(`--http-address must be HOST:PORT, got ${JSON.stringify(address)}`);
  const leaderElect = values['leader-elect'];
  if (leaderElect !== 'true' && leaderElect !== 'false') throw new Error('--leader-elect must be true or false');
  return {
    kubeconfig: values.kubeconfig,
    httpHost: address.slice(0, colon),
    httpPort: number('http-address', address.slice(colon + 1), 0),
    leaderElect: leaderElect === 'true',
    leaseNamespace: values['lease-namespace'] ?? env.POD_NAMESPACE ?? 'default',
    leaseName: values['lease-name'],
    identity: `${env.HOSTNAME ?? hostname()}-${process.pid}`,
    resyncIntervalMs: number('resync-interval', values['resync-interval'], 0.1) * 1000,
    workers: Math.floor(number('workers', values.workers, 1)),
    maxRetryDelayMs: number('max-retry-delay', values['max-retry-delay'], 0.1) * 1000,
    logLevel: values['log-level'],
    backups: {
      maxConcurrent: Math.floor(number('backups-max-concurrent', values['backups-max-concurrent'], 1)),
      jitterSeconds: Math.floor(number('backups-jitter', values['backups-jitter'], 0)),
    },
  };
}

function waitForSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    process.once('SIGTERM', () => {
      resolve('SIGTERM');
    });
    process.once('SIGINT', () => {
      resolve('SIGINT');
    });
  });
}

/** `env` supplies KUBECONFIG, HOME and the in-cluster variables (see loadKubeAccess); exec credential plugins inherit it. */
export async function runOperator(settings: OperatorSettings, log: Logger, env: NodeJS.ProcessEnv): Promise<number> {
  const kubeConfig = loadKubeAccess({ path: settings.kubeconfig, env });
  // One transport for every API client of the process (see ConnectionPool for how its pools are kept apart).
  const transport = new KubeTransport(kubeConfig);
  const version = await transport.json<{ gitVersion?: string }>({ method: 'GET', path: '/version' });
  log.info({ server: kubeConfig.describe(), config: kubeConfig.source, kubernetesVersion: version.gitVersion }, 'connected to the Kubernetes API');

  const metrics = new OperatorMetrics();
  const manager = new Manager({
    kubeConfig,
    transport,
    logger: log,
    metrics,
    resyncIntervalMs: settings.resyncIntervalMs,
    workers: settings.workers,
    maxRetryDelayMs: settings.maxRetryDelayMs,
    backups: settings.backups,
  });
  let running = false;
  let failed: Error | undefined;
  const http = await startHttpServer({
    host: settings.httpHost,
    port: settings.httpPort,
    metrics,
    healthy: () => failed === undefined,
    // A standby is ready to take over; a leader once its caches are synced.
    ready: () => failed === undefined && (running || !(elector?.isLeader() ?? true)),
  });
  log.info({ port: http.port }, 'serving /metrics, /healthz and /readyz');

  let lostLeadership: (() => void) | undefined;
  let aborting: Promise<void> | undefined;
  let shuttingDown = false;
  const lost = new Promise<void>((resolve) => {
    lostLeadership = resolve;
  });
  const startManager = (): void => {
    manager.start().then(
      () => {
        running = true;
        log.info('operator running');
      },
      (error: unknown) => {
        // Deposed while the caches were syncing: stopping them is what failed the start.
        if (aborting !== undefined) return;
        failed = error instanceof Error ? error : new Error(String(error));
        log.error({ error: failed.message }, 'the controllers could not start');
      },
    );
  };
  const elector = settings.leaderElect
    ? new LeaderElector({
        kubeConfig,
        transport,
        namespace: settings.leaseNamespace,
        name: settings.leaseName,
        identity: settings.identity,
        logger: log,
        metrics,
        onStartedLeading: () => {
          log.info({ identity: settings.identity }, 'became the leader');
          startManager();
        },
        onStoppedLeading: () => {
          // Also called by elector.stop() on the way out, after the manager has stopped.
          if (shuttingDown) return;
          log.warn({ identity: settings.identity }, 'lost the leadership; aborting running reconciles and exiting so that a fresh process can stand by');
          aborting = manager.abort(new Error('this operator lost the leadership'));
          lostLeadership?.();
        },
      })
    : undefined;
  if (elector === undefined) {
    metrics.setLeader(true);
    startManager();
  } else {
    log.info({ lease: `${settings.leaseNamespace}/${settings.leaseName}`, identity: settings.identity }, 'waiting to become the leader');
    elector.run();
  }

  const why = await Promise.race([waitForSignal(), lost.then(() => 'lost-leadership' as const)]);
  shuttingDown = true;
  log.info({ reason: why }, 'shutting down');
  await (aborting ?? manager.stop());
  await elector?.stop();
  await http.close();
  log.info('stopped');
  return why === 'lost-leadership' ? 1 : 0;
}

export async function operatorCommand(args: readonly string[]): Promise<number> {
  let settings: OperatorSettings;
  try {
    settings = parseOperatorSettings(args, process.env);
  } catch (error) {
    process.stderr.write(`flightdeck operator: ${error instanceof Error ? error.message : String(error)}\n${usage}`);
    return 2;
  }
  const log = pino({ level: settings.logLevel, base: { component: 'operator' } });
  return runOperator(settings, log, process.env);
}
