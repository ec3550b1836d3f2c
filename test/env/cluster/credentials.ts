// Client certificates and kubeconfigs for the local cluster's components,
// signed by the control plane's CA, with the identities Kubernetes' built-in
// RBAC and Node authorizer expect (system:node:<name> in system:nodes,
// system:kube-proxy, system:kube-controller-manager, system:kube-scheduler).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { signedCertificate } from '../certificates.ts';
import type { ControlPlane } from '../controlplane.ts';

const clientExtensions = ['basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment', 'extendedKeyUsage=clientAuth', ''].join('\n');

/**
 * Writes `<dir>/<name>.kubeconfig` for a client certificate with `subject`
 * (an openssl subject such as `/O=system:nodes/CN=system:node:node-1`) and
 * returns its path. The server is the control plane's URL.
 */
export function componentKubeconfig(plane: Pick<ControlPlane, 'dir' | 'url'>, dir: string, name: string, subject: string): string {
  const pki = join(plane.dir, 'pki');
  const ca = { cert: join(pki, 'ca.crt'), key: join(pki, 'ca.key') };
  const client = signedCertificate(dir, name, subject, clientExtensions, ca);
  const b64 = (file: string): string => readFileSync(file).toString('base64');
  const path = join(dir, `${name}.kubeconfig`);
  writeFileSync(
    path,
    `apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: ${plane.url}
    certificate-authority-data: ${b64(ca.cert)}
users:
- name: ${name}
  user:
    client-certificate-data: ${b64(client.cert)}
    client-key-data: ${b64(client.key)}
contexts:
- name: local
  context: {cluster: local, user: ${name}}
current-context: local
`,
    { mode: 0o600 },
  );
  return path;
}
