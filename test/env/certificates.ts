// The certificates a local control plane needs, made with the openssl command:
// a CA, a serving certificate for 127.0.0.1/localhost (and any further
// addresses the API server listens on), an admin client
// certificate (group system:masters) and the service-account signing key.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type ControlPlaneCertificates = Readonly<
  Record<
    | 'caCert'
    | 'caKey'
    | 'serverCert'
    | 'serverKey'
    | 'adminCert'
    | 'adminKey'
    | 'serviceAccountKey'
    | 'serviceAccountPublicKey',
    string
  >
>;

function openssl(args: readonly string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A key and a certificate for `subject` with the given openssl extensions, signed by `ca`; written to `dir/<name>.{key,crt}`. */
export function signedCertificate(
  dir: string,
  name: string,
  subject: string,
  extensions: string,
  ca: { cert: string; key: string },
): { cert: string; key: string } {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const cert = join(dir, `${name}.crt`);
  const ext = join(dir, `${name}.ext`);
  writeFileSync(ext, extensions);
  openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-subj', subject, '-out', csr]);
  openssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-days', '3650', '-extfile', ext, '-out', cert]);
  return { cert, key };
}

/**
 * Creates the certificates in `dir`, or reuses them when they are there.
 * `extraAddresses` are IP addresses the serving certificate names besides
 * 127.0.0.1 and 10.96.0.1; they only matter when the certificates are made.
 */
export function controlPlaneCertificates(dir: string, extraAddresses: readonly string[] = []): ControlPlaneCertificates {
  mkdirSync(dir, { recursive: true });
  const paths: ControlPlaneCertificates = {
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    serverCert: join(dir, 'apiserver.crt'),
    serverKey: join(dir, 'apiserver.key'),
    adminCert: join(dir, 'admin.crt'),
    adminKey: join(dir, 'admin.key'),
    serviceAccountKey: join(dir, 'service-account.key'),
    serviceAccountPublicKey: join(dir, 'service-account.pub'),
  };
  if (Object.values(paths).every((p) => existsSync(p))) return paths;

  openssl([
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', paths.caKey, '-out', paths.caCert, '-days', '3650', '-subj', '/CN=flightdeck-local-ca',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  const ca = { cert: paths.caCert, key: paths.caKey };
  signedCertificate(
    dir,
    'apiserver',
    '/CN=kube-apiserver',
    [
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth',
      `subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:10.96.0.1${extraAddresses.map((a) => `,IP:${a}`).join('')}`,
      '',
    ].join('\n'),
    ca,
  );
  signedCertificate(
    dir,
    'admin',
    '/O=system:masters/CN=flightdeck-admin',
    ['basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment', 'extendedKeyUsage=clientAuth', ''].join('\n'),
    ca,
  );
  openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', paths.serviceAccountKey]);
  openssl(['pkey', '-in', paths.serviceAccountKey, '-pubout', '-out', paths.serviceAccountPublicKey]);
  return paths;
}
