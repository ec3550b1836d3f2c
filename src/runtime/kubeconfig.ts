// Finds and reads the configuration that says which API server the operator
// talks to and as whom, in client-go's order: an explicit kubeconfig file,
// $KUBECONFIG, ~/.kube/config, then the pod's service account. It supports
// what operators meet in practice — certificate, token, token file and exec
// plugin users — and refuses anything else by name rather than connecting
// anonymously and failing later with a confusing 401.
import { existsSync, readFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { execCredentialApiVersions, ExecCredentialPlugin, type ExecClusterInfo, type ExecConfig, type ExecCredentialApiVersion } from './exec-credential.ts';
import { kubeAccess, staticCredentials, type ClientCertificate, type CredentialSource, type KubeAccess } from './kube-access.ts';
import { TokenFile } from './token-file.ts';

/** Where a pod's service-account token, CA and namespace are mounted. */
export const serviceAccountDir = '/var/run/secrets/kubernetes.io/serviceaccount';

/** The environment variables the loader reads; the operator passes process.env. */
export type Environment = Readonly<Record<string, string | undefined>>;

export interface LoadKubeAccessOptions {
  /**
   * KUBECONFIG, HOME, KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are
   * read from here, nowhere else; exec plugins inherit it.
   */
  env: Environment;
  /** A kubeconfig file named by the user (--kubeconfig): used alone, and it must exist. */
  path?: string | undefined;
  /** The service account's directory for the in-cluster configuration. Default: serviceAccountDir. */
  serviceAccountDir?: string;
}

/**
 * The configuration from the first source that exists:
 *
 * 1. `options.path`, which must exist;
 * 2. `$KUBECONFIG`, a colon-separated list of files: the first file that
 *    exists is used alone. client-go merges all of them; this loader does not
 *    (a merged config is rarely intended for an operator). When KUBECONFIG is
 *    set, ~/.kube/config is not consulted, as in client-go: if none of its
 *    files exists, only the in-cluster configuration remains;
 * 3. `$HOME/.kube/config`;
 * 4. the in-cluster configuration (see inClusterAccess).
 *
 * Throws when no source exists, or when the chosen one is invalid or uses
 * something unsupported; the message names the file and the field, never a
 * credential.
 */
export function loadKubeAccess(options: LoadKubeAccessOptions): KubeAccess {
  const { env } = options;
  if (options.path !== undefined) {
    if (!existsSync(options.path)) throw new Error(`the kubeconfig ${options.path} does not exist`);
    return kubeconfigAccess(options.path, env);
  }
  const tried: string[] = [];
  const listed = (env.KUBECONFIG ?? '').split(':').filter((file) => file !== '');
  if (listed.length > 0) {
    const found = listed.find((file) => existsSync(file));
    if (found !== undefined) return kubeconfigAccess(found, env);
    tried.push(`KUBECONFIG (${listed.join(', ')}: none exists)`);
  } else if (env.HOME !== undefined && env.HOME !== '') {
    const home = join(env.HOME, '.kube', 'config');
    if (existsSync(home)) return kubeconfigAccess(home, env);
    tried.push(`${home} (does not exist)`);
  } else {
    tried.push('~/.kube/config (HOME is not set)');
  }
  const inCluster = inClusterAccess({ env, serviceAccountDir: options.serviceAccountDir });
  if (inCluster !== undefined) return inCluster;
  tried.push('in-cluster (KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT are not set)');
  throw new Error(`no Kubernetes configuration found; tried ${tried.join('; ')}`);
}

/**
 * The configuration of a pod: server https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT,
 * the CA in ca.crt, the namespace in `namespace` (if present) and the bearer
 * token in `token`, re-read at most once a minute (and after a 401) because
 * the kubelet rotates it. Undefined when the two variables are not set (not
 * in a pod); throws when they are but the token or CA cannot be read.
 */
export function inClusterAccess(options: { env: Environment; serviceAccountDir?: string | undefined }): KubeAccess | undefined {
  const host = options.env.KUBERNETES_SERVICE_HOST;
  const port = options.env.KUBERNETES_SERVICE_PORT;
  if (host === undefined || host === '' || port === undefined || port === '') return undefined;
  const dir = options.serviceAccountDir ?? serviceAccountDir;
  const token = new TokenFile(join(dir, 'token'), 'the service-account token');
  token.read(); // Fail now, at start-up, rather than at the first request.
  const caFile = join(dir, 'ca.crt');
  const namespaceFile = join(dir, 'namespace');
  return kubeAccess({
    server: `https://${isIPv6(host) ? `[${host}]` : host}:${port}`,
    caPem: readFile(caFile, 'the service-account CA'),
    namespace: existsSync(namespaceFile) ? readFile(namespaceFile, 'the service-account namespace').trim() || undefined : undefined,
    source: `in-cluster service account (${dir})`,
    credentials: {
      get: () => Promise.resolve({ token: token.read() }),
      invalidate: () => {
        token.invalidate();
      },
    },
  });
}

/**
 * The current context of one kubeconfig file: its cluster and user. Relative
 * file names in it (certificate-authority, client-certificate, client-key,
 * tokenFile, and an exec command containing a slash) are resolved against the
 * file's directory, as client-go does. Files are read now, except tokenFile,
 * which is re-read at most once a minute.
 */
export function kubeconfigAccess(path: string, env: Environment): KubeAccess {
  const text = readFile(path, 'the kubeconfig');
  let document: unknown;
  try {
    document = parse(text);
  } catch (error) {
    throw new Error(`cannot parse the kubeconfig ${path}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const config = new Section(document ?? {}, `the kubeconfig ${path}`);
  const contextName = config.string('current-context');
  if (contextName === undefined) throw new Error(`the kubeconfig ${path} has no current-context`);
  const context = config.named('contexts', 'context', contextName);
  if (context === undefined) throw new Error(`the kubeconfig ${path} has no context ${JSON.stringify(contextName)} (its current-context)`);
  const clusterName = context.string('cluster');
  if (clusterName === undefined) throw new Error(`${context.where} names no cluster`);
  const cluster = config.named('clusters', 'cluster', clusterName);
  if (cluster === undefined) throw new Error(`the kubeconfig ${path} has no cluster ${JSON.stringify(clusterName)} (of context ${JSON.stringify(contextName)})`);
  const userName = context.string('user');
  const user = userName === undefined ? undefined : config.named('users', 'user', userName);
  if (userName !== undefined && user === undefined) {
    throw new Error(`the kubeconfig ${path} has no user ${JSON.stringify(userName)} (of context ${JSON.stringify(contextName)})`);
  }

  const base = dirname(resolve(path));
  const server = cluster.string('server');
  if (server === undefined) throw new Error(`${cluster.where} has no server`);
  if (cluster.has('proxy-url')) throw new Error(`${cluster.where} sets proxy-url, which flightdeck does not support`);
  const caPem = cluster.pem('certificate-authority', base);
  const insecureSkipTlsVerify = cluster.boolean('insecure-skip-tls-verify') ?? false;
  if (insecureSkipTlsVerify && caPem !== undefined) {
    throw new Error(`${cluster.where} sets both insecure-skip-tls-verify and a certificate authority; choose one`);
  }
  const tlsServerName = cluster.string('tls-server-name');
  const execCluster: ExecClusterInfo = {
    server,
    ...(caPem === undefined ? {} : { 'certificate-authority-data': Buffer.from(caPem).toString('base64') }),
    ...(insecureSkipTlsVerify ? { 'insecure-skip-tls-verify': true } : {}),
    ...(tlsServerName === undefined ? {} : { 'tls-server-name': tlsServerName }),
    ...execExtension(cluster),
  };
  return kubeAccess({
    server,
    caPem,
    insecureSkipTlsVerify,
    tlsServerName,
    namespace: context.string('namespace'),
    source: `kubeconfig ${path}, context ${contextName}`,
    credentials: user === undefined || userName === undefined ? staticCredentials({}) : userCredentials(user, userName, base, env, execCluster),
  });
}

/** The user's credential source; throws for unsupported or contradictory settings. */
function userCredentials(user: Section, name: string, base: string, env: Environment, cluster: ExecClusterInfo): CredentialSource {
  for (const field of ['auth-provider', 'username', 'password', 'as', 'as-uid', 'as-groups', 'as-user-extra'] as const) {
    if (!user.has(field)) continue;
    const what =
      field === 'auth-provider'
        ? `auth-provider ${JSON.stringify(user.section('auth-provider')?.string('name') ?? '?')}, which flightdeck does not support; use an exec credential plugin instead (e.g. kubelogin for OIDC)`
        : field === 'username' || field === 'password'
          ? `${field} (basic authentication, which Kubernetes removed in 1.19)`
          : `${field} (impersonation), which flightdeck does not support`;
    throw new Error(`${user.where} uses ${what}`);
  }
  const certPem = user.pem('client-certificate', base);
  const keyPem = user.pem('client-key', base);
  if ((certPem === undefined) !== (keyPem === undefined)) {
    throw new Error(`${user.where} sets only one of client-certificate and client-key; both are needed`);
  }
  const clientCertificate: ClientCertificate | undefined = certPem === undefined || keyPem === undefined ? undefined : { certPem, keyPem };
  const token = user.string('token');
  const tokenFileName = user.string('tokenFile');
  const exec = user.section('exec');

  if (exec !== undefined) {
    if (token !== undefined || tokenFileName !== undefined || clientCertificate !== undefined) {
      throw new Error(`${user.where} sets exec together with a token, tokenFile or client certificate; choose one`);
    }
    return new ExecCredentialPlugin({ exec: execConfig(exec, base), user: name, env, cluster });
  }
  if (tokenFileName !== undefined) {
    // As in client-go, a token file wins over an inline token.
    const tokenFile = new TokenFile(resolve(base, tokenFileName), `the tokenFile of user ${JSON.stringify(name)}`);
    tokenFile.read(); // Fail now, at start-up, rather than at the first request.
    return {
      get: () => Promise.resolve({ token: tokenFile.read(), ...(clientCertificate === undefined ? {} : { clientCertificate }) }),
      invalidate: () => {
        tokenFile.invalidate();
      },
    };
  }
  return staticCredentials({ ...(token === undefined ? {} : { token }), ...(clientCertificate === undefined ? {} : { clientCertificate }) });
}

function execConfig(exec: Section, base: string): ExecConfig {
  const apiVersion = exec.string('apiVersion');
  if (!isExecApiVersion(apiVersion)) {
    throw new Error(`${exec.where} has apiVersion ${JSON.stringify(apiVersion ?? null)}; flightdeck supports ${execCredentialApiVersions.join(' and ')}`);
  }
  const command = exec.string('command');
  if (command === undefined) throw new Error(`${exec.where} has no command`);
  const interactiveMode = exec.string('interactiveMode');
  if (interactiveMode === 'Always') {
    throw new Error(`${exec.where} sets interactiveMode: Always, but the operator has no terminal to give the plugin`);
  }
  const env = exec.list('env').map((entry) => {
    const name = entry.string('name');
    if (name === undefined) throw new Error(`${entry.where} has no name`);
    return { name, value: entry.string('value') ?? '' };
  });
  return {
    apiVersion,
    // client-go: a command with a slash is a path, relative to the kubeconfig; without, it is looked up on PATH.
    command: command.includes('/') && !isAbsolute(command) ? resolve(base, command) : command,
    args: exec.strings('args'),
    env,
    installHint: exec.string('installHint'),
    provideClusterInfo: exec.boolean('provideClusterInfo') ?? false,
  };
}

function isExecApiVersion(value: string | undefined): value is ExecCredentialApiVersion {
  return (execCredentialApiVersions as readonly (string | undefined)[]).includes(value);
}

/** spec.cluster.config for exec plugins: the cluster extension client-go reserves for them. */
function execExtension(cluster: Section): { config?: unknown } {
  const entry = cluster.list('extensions').find((e) => e.string('name') === 'client.authentication.k8s.io/exec');
  return entry === undefined ? {} : { config: entry.raw('extension') };
}

/** The file's text; the error names `what` and (through Node's message) the path. */
function readFile(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read ${what}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

/**
 * A mapping in the kubeconfig with typed, checked reads. `where` says where
 * it is (`user "dev" in the kubeconfig /x`), for messages that never quote
 * values.
 */
class Section {
  readonly where: string;
  readonly #fields: Record<string, unknown>;

  constructor(value: unknown, where: string) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${where} is not a mapping`);
    this.#fields = value as Record<string, unknown>;
    this.where = where;
  }

  /** Whether the field is set to anything but null or an empty string. */
  has(field: string): boolean {
    const value = this.#fields[field];
    return value !== undefined && value !== null && value !== '';
  }

  raw(field: string): unknown {
    return this.#fields[field];
  }

  /** The field as a string; undefined when absent, null or empty. Numbers and booleans are not accepted. */
  string(field: string): string | undefined {
    if (!this.has(field)) return undefined;
    const value = this.#fields[field];
    if (typeof value !== 'string') throw new Error(`${this.where}: ${field} must be a string`);
    return value;
  }

  boolean(field: string): boolean | undefined {
    if (!this.has(field)) return undefined;
    const value = this.#fields[field];
    if (typeof value !== 'boolean') throw new Error(`${this.where}: ${field} must be true or false`);
    return value;
  }

  section(field: string): Section | undefined {
    return this.has(field) ? new Section(this.#fields[field], `${field} of ${this.where}`) : undefined;
  }

  list(field: string): Section[] {
    const value = this.#fields[field];
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) throw new Error(`${this.where}: ${field} must be a list`);
    return value.map((item: unknown, index) => new Section(item, `${field}[${index}] of ${this.where}`));
  }

  strings(field: string): string[] {
    const value = this.#fields[field];
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value) || !value.every((item: unknown) => typeof item === 'string')) {
      throw new Error(`${this.where}: ${field} must be a list of strings`);
    }
    return value;
  }

  /**
   * The entry called `name` of a kubeconfig list such as `clusters`
   * ({ name, cluster: {…} }): its `key` mapping, or undefined when no entry
   * has that name.
   */
  named(list: string, key: string, name: string): Section | undefined {
    const entry = this.list(list).find((e) => e.string('name') === name);
    if (entry === undefined) return undefined;
    return new Section(entry.raw(key) ?? {}, `${key} ${JSON.stringify(name)} in ${this.where}`);
  }

  /**
   * PEM from `<field>-data` (base64) or from the file `<field>` (relative to
   * `base`); undefined when neither is set. Both set is an error, as in
   * client-go's validation.
   */
  pem(field: string, base: string): string | undefined {
    const data = this.string(`${field}-data`);
    const file = this.string(field);
    if (data !== undefined && file !== undefined) throw new Error(`${this.where} sets both ${field} and ${field}-data; choose one`);
    let pem: string;
    if (data !== undefined) {
      pem = Buffer.from(data, 'base64').toString('utf8');
      if (!pem.includes('-----BEGIN ')) throw new Error(`${this.where}: ${field}-data is not base64-encoded PEM`);
    } else if (file !== undefined) {
      const path = resolve(base, file);
      pem = readFile(path, `the ${field} of ${this.where}`);
      if (!pem.includes('-----BEGIN ')) throw new Error(`${this.where}: the ${field} file ${path} is not PEM`);
    } else {
      return undefined;
    }
    return pem;
  }
}
