// Credentials of a ServiceAccount, as a pod has them: a token from the
// TokenRequest API in a kubeconfig of its own. Lets a test or a benchmark run
// the operator outside a pod with exactly the permissions the chart grants it,
// and authenticated the way it is in a cluster (a bearer token, not the
// administrator's client certificate).
import { readFileSync, writeFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { kubectl, type KubectlTarget } from './kubectl.ts';

/** Writes `file`, a kubeconfig for ServiceAccount `namespace/account` on `target`'s API server (token valid for an hour). */
export function serviceAccountKubeconfig(target: KubectlTarget, namespace: string, account: string, file: string): string {
  const token = kubectl(target, ['create', 'token', account, '-n', namespace, '--duration=1h']).trim();
  const admin = parse(readFileSync(target.kubeconfig, 'utf8')) as { clusters: { cluster: Record<string, string> }[] };
  const cluster = admin.clusters[0]?.cluster;
  if (cluster?.server === undefined) throw new Error(`${target.kubeconfig} names no API server`);
  writeFileSync(
    file,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'test', cluster: { server: cluster.server, 'certificate-authority-data': cluster['certificate-authority-data'] } }],
      users: [{ name: account, user: { token } }],
      contexts: [{ name: account, context: { cluster: 'test', user: account, namespace } }],
      'current-context': account,
    }),
    { mode: 0o600 },
  );
  return file;
}
