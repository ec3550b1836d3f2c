import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { inClusterAccess, kubeconfigAccess, loadKubeAccess } from './kubeconfig.ts';

// The loader does not parse certificates, so any PEM-shaped text will do.
const caPem = '-----BEGIN CERTIFICATE-----\nY2EK\n-----END CERTIFICATE-----\n';
const certPem = '-----BEGIN CERTIFICATE-----\nY2VydAo=\n-----END CERTIFICATE-----\n';
const keyPem = '-----BEGIN PRIVATE KEY-----\na2V5Cg==\n-----END PRIVATE KEY-----\n';
const b64 = (text: string): string => Buffer.from(text).toString('base64');
const secretToken = 'sekret-token-0123456789';

const root = mkdtempSync(join(tmpdir(), 'flightdeck-kubeconfig-'));
after(() => {
  rmSync(root, { recursive: true, force: true });
});
let dirs = 0;
function freshDir(): string {
  const dir = join(root, String(++dirs));
  mkdirSync(dir, { recursive: true });
  return dir;
}

interface KubeconfigParts {
  cluster?: Record<string, unknown>;
  user?: Record<string, unknown> | undefined;
  context?: Record<string, unknown>;
  currentContext?: string | undefined;
}

/** Writes a kubeconfig with one context `dev` → cluster `c`, user `u`; returns its path. */
function writeKubeconfig(dir: string, parts: KubeconfigParts = {}, name = 'config'): string {
  const path = join(dir, name);
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'c', cluster: parts.cluster ?? { server: 'https://127.0.0.1:6443' } }],
    users: parts.user === undefined ? [] : [{ name: 'u', user: parts.user }],
    contexts: [{ name: 'dev', context: parts.context ?? { cluster: 'c', ...(parts.user === undefined ? {} : { user: 'u' }) } }],
    ...('currentContext' in parts ? (parts.currentContext === undefined ? {} : { 'current-context': parts.currentContext }) : { 'current-context': 'dev' }),
  };
  writeFileSync(path, stringify(config));
  return path;
}

describe('kubeconfigAccess', () => {
  it('reads the current context: server, CA, client certificate and namespace from -data fields', async () => {
    const path = writeKubeconfig(freshDir(), {
      cluster: { server: 'https://10.1.2.3:6443/', 'certificate-authority-data': b64(caPem), 'tls-server-name': 'kubernetes' },
      user: { 'client-certificate-data': b64(certPem), 'client-key-data': b64(keyPem) },
      context: { cluster: 'c', user: 'u', namespace: 'shop' },
    });
    const access = kubeconfigAccess(path, {});
    assert.equal(access.server, 'https://10.1.2.3:6443');
    assert.equal(access.caPem, caPem);
    assert.equal(access.tlsServerName, 'kubernetes');
    assert.equal(access.insecureSkipTlsVerify, false);
    assert.equal(access.namespace, 'shop');
    assert.equal(access.source, `kubeconfig ${path}, context dev`);
    assert.equal(access.describe(), 'https://10.1.2.3:6443');
    assert.deepEqual(await access.credentials(), { clientCertificate: { certPem, keyPem } });
  });

  it('reads certificate files relative to the kubeconfig, not to the working directory', async () => {
    const dir = freshDir();
    mkdirSync(join(dir, 'pki'));
    writeFileSync(join(dir, 'pki', 'ca.crt'), caPem);
    writeFileSync(join(dir, 'pki', 'admin.crt'), certPem);
    writeFileSync(join(dir, 'pki', 'admin.key'), keyPem);
    const path = writeKubeconfig(dir, {
      cluster: { server: 'https://127.0.0.1:6443', 'certificate-authority': 'pki/ca.crt' },
      user: { 'client-certificate': 'pki/admin.crt', 'client-key': join(dir, 'pki', 'admin.key') },
    });
    assert.notEqual(process.cwd(), dir);
    const access = kubeconfigAccess(path, {});
    assert.equal(access.caPem, caPem);
    assert.deepEqual(await access.credentials(), { clientCertificate: { certPem, keyPem } });
  });

  it('sends an inline token', async () => {
    const access = kubeconfigAccess(writeKubeconfig(freshDir(), { user: { token: secretToken } }), {});
    assert.deepEqual(await access.credentials(), { token: secretToken });
  });

  it('reads a tokenFile relative to the kubeconfig, and again after a 401', async () => {
    const dir = freshDir();
    writeFileSync(join(dir, 'token'), 'first\n');
    const access = kubeconfigAccess(writeKubeconfig(dir, { user: { tokenFile: 'token', token: 'ignored' } }), {});
    assert.deepEqual(await access.credentials(), { token: 'first' });
    writeFileSync(join(dir, 'token'), 'second\n');
    // Re-read at most once a minute…
    assert.deepEqual(await access.credentials(), { token: 'first' });
    // …or when the API server said the token is no good.
    access.invalidateCredentials();
    assert.deepEqual(await access.credentials(), { token: 'second' });
  });

  it('is anonymous when the context names no user', async () => {
    const access = kubeconfigAccess(writeKubeconfig(freshDir(), { cluster: { server: 'http://127.0.0.1:8080', 'insecure-skip-tls-verify': true } }), {});
    assert.equal(access.insecureSkipTlsVerify, true);
    assert.deepEqual(await access.credentials(), {});
  });

  it('runs an exec plugin (a relative command is relative to the kubeconfig) with its args and env', async () => {
    const dir = freshDir();
    mkdirSync(join(dir, 'bin'));
    const plugin = join(dir, 'bin', 'get-token');
    writeFileSync(
      plugin,
      `#!/bin/sh
printf '%s' "$KUBERNETES_EXEC_INFO" > "${dir}/exec-info"
printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s-%s-%s"}}' "$1" "$REGION" "$INHERITED"
`,
    );
    chmodSync(plugin, 0o755);
    const path = writeKubeconfig(dir, {
      cluster: { server: 'https://eks.example:443', 'certificate-authority-data': b64(caPem) },
      user: {
        exec: {
          apiVersion: 'client.authentication.k8s.io/v1',
          command: './bin/get-token',
          args: ['cluster-a'],
          env: [{ name: 'REGION', value: 'eu-west-1' }],
          interactiveMode: 'Never',
          provideClusterInfo: true,
        },
      },
    });
    const access = kubeconfigAccess(path, { INHERITED: 'from-env', PATH: process.env.PATH });
    assert.deepEqual(await access.credentials(), { token: 'cluster-a-eu-west-1-from-env' });
    const info = JSON.parse(readFileSync(join(dir, 'exec-info'), 'utf8')) as unknown;
    assert.deepEqual(info, {
      apiVersion: 'client.authentication.k8s.io/v1',
      kind: 'ExecCredential',
      spec: { interactive: false, cluster: { server: 'https://eks.example:443', 'certificate-authority-data': b64(caPem) } },
    });
  });

  it('refuses an auth-provider by name', () => {
    const path = writeKubeconfig(freshDir(), { user: { 'auth-provider': { name: 'oidc', config: { 'id-token': secretToken } } } });
    assert.throws(
      () => kubeconfigAccess(path, {}),
      (error: Error) => {
        assert.match(error.message, /user "u" in the kubeconfig .* uses auth-provider "oidc", which flightdeck does not support; use an exec credential plugin/);
        assert.doesNotMatch(error.message, new RegExp(secretToken));
        return true;
      },
    );
  });

  it('refuses basic authentication, impersonation, proxies and interactive plugins by name', () => {
    const cases: [KubeconfigParts, RegExp][] = [
      [{ user: { username: 'admin', password: secretToken } }, /uses username \(basic authentication/],
      [{ user: { token: secretToken, as: 'someone' } }, /uses as \(impersonation\)/],
      [{ cluster: { server: 'https://x', 'proxy-url': 'http://proxy:3128' } }, /sets proxy-url, which flightdeck does not support/],
      [
        { user: { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'login', interactiveMode: 'Always' } } },
        /interactiveMode: Always, but the operator has no terminal/,
      ],
      [{ user: { exec: { apiVersion: 'client.authentication.k8s.io/v1alpha1', command: 'x' } } }, /apiVersion "client.authentication.k8s.io\/v1alpha1"; flightdeck supports/],
      [{ user: { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'x' }, token: secretToken } }, /sets exec together with a token/],
    ];
    for (const [parts, message] of cases) {
      assert.throws(
        () => kubeconfigAccess(writeKubeconfig(freshDir(), parts), {}),
        (error: Error) => {
          assert.match(error.message, message);
          assert.doesNotMatch(error.message, new RegExp(secretToken));
          return true;
        },
      );
    }
  });

  it('says which part of the kubeconfig is missing or contradictory', () => {
    const cases: [KubeconfigParts, RegExp][] = [
      [{ currentContext: undefined }, /the kubeconfig .*config has no current-context/],
      [{ currentContext: 'prod' }, /has no context "prod" \(its current-context\)/],
      [{ context: { cluster: 'elsewhere' } }, /has no cluster "elsewhere" \(of context "dev"\)/],
      [{ context: { cluster: 'c', user: 'nobody' } }, /has no user "nobody" \(of context "dev"\)/],
      [{ cluster: { 'certificate-authority-data': b64(caPem) } }, /cluster "c" in the kubeconfig .* has no server/],
      [{ cluster: { server: 'https://x', 'certificate-authority-data': b64(caPem), 'insecure-skip-tls-verify': true } }, /both insecure-skip-tls-verify and a certificate authority/],
      [{ cluster: { server: 'https://x', 'certificate-authority-data': b64(caPem), 'certificate-authority': 'ca.crt' } }, /both certificate-authority and certificate-authority-data/],
      [{ cluster: { server: 'https://x', 'certificate-authority-data': 'bm90IHBlbQ==' } }, /certificate-authority-data is not base64-encoded PEM/],
      [{ user: { 'client-certificate-data': b64(certPem) } }, /only one of client-certificate and client-key/],
      [{ user: { 'client-key': 'missing.key', 'client-certificate-data': b64(certPem) } }, /cannot read the client-key of user "u" .*missing\.key/],
      [{ cluster: { server: 'ftp://x' } }, /neither https:\/\/ nor http:\/\//],
    ];
    for (const [parts, message] of cases) {
      assert.throws(() => kubeconfigAccess(writeKubeconfig(freshDir(), parts), {}), message);
    }
  });

  it('keeps a password in the server URL out of describe()', () => {
    const access = kubeconfigAccess(writeKubeconfig(freshDir(), { cluster: { server: `https://admin:${secretToken}@10.0.0.1:6443` } }), {});
    assert.equal(access.describe(), 'https://10.0.0.1:6443');
  });
});

/** A fake service-account directory, as the kubelet mounts it. */
function serviceAccount(withNamespace = true): string {
  const dir = freshDir();
  writeFileSync(join(dir, 'token'), `${secretToken}\n`);
  writeFileSync(join(dir, 'ca.crt'), caPem);
  if (withNamespace) writeFileSync(join(dir, 'namespace'), 'flightdeck-system\n');
  return dir;
}

const podEnv = { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' };

describe('inClusterAccess', () => {
  it("uses the service's address, the mounted CA, namespace and token, and re-reads the token after a 401", async () => {
    const dir = serviceAccount();
    const access = inClusterAccess({ env: podEnv, serviceAccountDir: dir });
    assert.ok(access !== undefined);
    assert.equal(access.server, 'https://10.96.0.1:443');
    assert.equal(access.caPem, caPem);
    assert.equal(access.namespace, 'flightdeck-system');
    assert.equal(access.source, `in-cluster service account (${dir})`);
    assert.deepEqual(await access.credentials(), { token: secretToken });
    writeFileSync(join(dir, 'token'), 'rotated');
    assert.deepEqual(await access.credentials(), { token: secretToken });
    access.invalidateCredentials();
    assert.deepEqual(await access.credentials(), { token: 'rotated' });
  });

  it('brackets an IPv6 service address, and has no namespace when none is mounted', () => {
    const access = inClusterAccess({ env: { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, serviceAccountDir: serviceAccount(false) });
    assert.equal(access?.server, 'https://[fd00::1]:443');
    assert.equal(access.namespace, undefined);
  });

  it('is undefined outside a pod, and an error in a pod without a token', () => {
    assert.equal(inClusterAccess({ env: {}, serviceAccountDir: serviceAccount() }), undefined);
    assert.throws(() => inClusterAccess({ env: podEnv, serviceAccountDir: freshDir() }), /cannot read the service-account token from .*token: ENOENT/);
  });
});

describe('loadKubeAccess', () => {
  const server = (n: number) => ({ cluster: { server: `https://127.0.0.${n}:6443` } });

  it('takes an explicit path first, then the first existing KUBECONFIG file, then ~/.kube/config, then in-cluster', () => {
    const home = freshDir();
    mkdirSync(join(home, '.kube'));
    writeKubeconfig(join(home, '.kube'), server(3));
    const listed = freshDir();
    const second = writeKubeconfig(listed, server(2), 'second');
    const explicit = writeKubeconfig(freshDir(), server(1));
    const sa = serviceAccount();
    const env = { ...podEnv, HOME: home, KUBECONFIG: `${join(listed, 'missing')}:${second}:${explicit}` };

    assert.equal(loadKubeAccess({ env, path: explicit, serviceAccountDir: sa }).server, 'https://127.0.0.1:6443');
    assert.equal(loadKubeAccess({ env, serviceAccountDir: sa }).server, 'https://127.0.0.2:6443');
    assert.equal(loadKubeAccess({ env: { ...env, KUBECONFIG: '' }, serviceAccountDir: sa }).server, 'https://127.0.0.3:6443');
    assert.equal(loadKubeAccess({ env: { ...podEnv, HOME: freshDir() }, serviceAccountDir: sa }).server, 'https://10.96.0.1:443');
  });

  it('does not fall back to ~/.kube/config when KUBECONFIG names only missing files', () => {
    const home = freshDir();
    mkdirSync(join(home, '.kube'));
    writeKubeconfig(join(home, '.kube'), server(3));
    const env = { HOME: home, KUBECONFIG: join(home, 'missing') };
    assert.throws(() => loadKubeAccess({ env, serviceAccountDir: serviceAccount() }), /no Kubernetes configuration found; tried KUBECONFIG \(.*missing: none exists\); in-cluster/);
    assert.equal(loadKubeAccess({ env: { ...env, ...podEnv }, serviceAccountDir: serviceAccount() }).server, 'https://10.96.0.1:443');
  });

  it('refuses an explicit path that does not exist', () => {
    assert.throws(() => loadKubeAccess({ env: {}, path: join(root, 'nope') }), /the kubeconfig .*nope does not exist/);
  });
});
