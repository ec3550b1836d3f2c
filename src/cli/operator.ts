// `flightdeck operator`: the resident process. Until the controllers land it
// connects to the API server, reports what it finds and waits for SIGTERM.
import { KubeConfig, VersionApi } from '@kubernetes/client-node';
import { pino } from 'pino';

export async function operatorCommand(args: readonly string[]): Promise<number> {
  if (args.length > 0) {
    process.stderr.write(`flightdeck operator: unknown argument ${args[0] ?? ''}\n`);
    return 2;
  }
  const log = pino({ base: { component: 'operator' } });
  const kubeConfig = new KubeConfig();
  // KUBECONFIG, then ~/.kube/config, then the in-cluster service account.
  kubeConfig.loadFromDefault();
  const server = kubeConfig.getCurrentCluster()?.server ?? '(none)';

  const version = await kubeConfig.makeApiClient(VersionApi).getCode();
  log.info({ server, kubernetesVersion: version.gitVersion }, 'connected to the Kubernetes API');

  // Until the controllers land, the operator checks the API server now and
  // then; the timer is also what keeps the process running.
  const check = setInterval(() => {
    kubeConfig
      .makeApiClient(VersionApi)
      .getCode()
      .catch((error: unknown) => {
        log.warn({ err: error }, 'the Kubernetes API is not reachable');
      });
  }, 30_000);
  const stopped = new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => {
      resolve('SIGTERM');
    });
    process.once('SIGINT', () => {
      resolve('SIGINT');
    });
  });
  log.info('operator running; no controllers are registered yet');
  const signal = await stopped;
  clearInterval(check);
  log.info({ signal }, 'shutting down');
  return 0;
}
