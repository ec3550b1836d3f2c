// Credentials from a kubeconfig `exec` plugin (client.authentication.k8s.io
// ExecCredential, v1 and v1beta1): the way EKS (`aws eks get-token`), GKE
// (`gke-gcloud-auth-plugin`), AKS (`kubelogin`) and OIDC helpers hand out
// short-lived tokens. The plugin is a program that prints an ExecCredential
// as JSON on stdout; its answer is used until its expirationTimestamp, then
// the program runs again, as client-go does.
import { spawn } from 'node:child_process';
import type { ClientCertificate, CredentialSource, KubeCredentials } from './kube-access.ts';

export const execCredentialApiVersions = ['client.authentication.k8s.io/v1', 'client.authentication.k8s.io/v1beta1'] as const;
export type ExecCredentialApiVersion = (typeof execCredentialApiVersions)[number];

/** The `user.exec` section of a kubeconfig, paths already resolved. */
export interface ExecConfig {
  apiVersion: ExecCredentialApiVersion;
  /** A program on PATH, or a path (a relative one was resolved against the kubeconfig's directory). */
  command: string;
  args: readonly string[];
  /** Set on top of the operator's own environment. */
  env: readonly { name: string; value: string }[];
  /** Shown when the program cannot be started, e.g. how to install it. */
  installHint?: string | undefined;
  /** Whether the plugin is told the cluster (spec.cluster of KUBERNETES_EXEC_INFO). */
  provideClusterInfo: boolean;
}

/** spec.cluster of the ExecCredential handed to a plugin that asks for it (provideClusterInfo). */
export interface ExecClusterInfo {
  server: string;
  /** base64 of the CA's PEM, as in a kubeconfig. */
  'certificate-authority-data'?: string;
  'insecure-skip-tls-verify'?: boolean;
  'tls-server-name'?: string;
  /** The cluster's `extensions` entry named client.authentication.k8s.io/exec. */
  config?: unknown;
}

export interface ExecCredentialOptions {
  exec: ExecConfig;
  /** Names the kubeconfig user in error messages. */
  user: string;
  /** The environment the plugin inherits (the operator passes process.env); exec.env is added on top. */
  env: Readonly<Record<string, string | undefined>>;
  cluster?: ExecClusterInfo;
  /** A plugin still running after this long is killed and the attempt fails. Default 60 s. */
  timeoutMs?: number;
  /** Wall clock in epoch ms, compared with expirationTimestamp. Default Date.now. */
  now?: () => number;
}

/** How much of a failing plugin's stderr goes into the error, from its end (where the reason usually is). */
const stderrShown = 1000;

/** Output larger than this is not an ExecCredential; the plugin is killed. */
const maxOutputBytes = 1 << 20;

interface Cached {
  readonly credentials: KubeCredentials;
  /** Epoch ms from status.expirationTimestamp; undefined: valid until invalidated. */
  readonly expiresAt: number | undefined;
}

/**
 * Runs the plugin when credentials are first needed, and again once they
 * have expired or after invalidate() (a 401). Concurrent get() calls share one
 * run. A failed run is not cached: the next get() runs the plugin again.
 *
 * The plugin never gets a terminal: stdin is closed and spec.interactive is
 * false (an operator has no user to ask), so kubeconfigs with
 * interactiveMode: Always are refused when loaded. Its stderr is only shown
 * in the error when it fails.
 */
export class ExecCredentialPlugin implements CredentialSource {
  readonly #options: ExecCredentialOptions;
  readonly #now: () => number;
  #cached: Cached | undefined;
  #running: Promise<Cached> | undefined;

  constructor(options: ExecCredentialOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  async get(): Promise<KubeCredentials> {
    const cached = this.#cached;
    if (cached !== undefined && (cached.expiresAt === undefined || this.#now() < cached.expiresAt)) return cached.credentials;
    this.#running ??= this.#run().finally(() => {
      this.#running = undefined;
    });
    const fresh = await this.#running;
    this.#cached = fresh;
    return fresh.credentials;
  }

  invalidate(): void {
    this.#cached = undefined;
  }

  async #run(): Promise<Cached> {
    const { exec, cluster } = this.#options;
    const info = {
      apiVersion: exec.apiVersion,
      kind: 'ExecCredential',
      spec: { interactive: false, ...(exec.provideClusterInfo && cluster !== undefined ? { cluster } : {}) },
    };
    const env: Record<string, string | undefined> = { ...this.#options.env, KUBERNETES_EXEC_INFO: JSON.stringify(info) };
    for (const { name, value } of exec.env) env[name] = value;
    const stdout = await this.#spawn(env);
    return this.#parse(stdout);
  }

  #spawn(env: Record<string, string | undefined>): Promise<string> {
    const { exec } = this.#options;
    const timeoutMs = this.#options.timeoutMs ?? 60_000;
    return new Promise((resolve, reject) => {
      const child = spawn(exec.command, [...exec.args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      let outBytes = 0;
      let err = '';
      let tooLarge = false;
      let timedOut = false;
      // A hung plugin would otherwise hold every request of the operator.
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
        // A child of the plugin may still hold the pipes open; do not wait for it.
        child.stdout.destroy();
        child.stderr.destroy();
      }, timeoutMs);
      child.stdout.on('data', (chunk: Buffer) => {
        outBytes += chunk.length;
        if (outBytes > maxOutputBytes) {
          tooLarge = true;
          child.kill('SIGKILL');
          return;
        }
        out.push(chunk);
      });
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (chunk: string) => {
        err = (err + chunk).slice(-stderrShown);
      });
      child.on('error', (error) => {
        clearTimeout(timer);
        const hint = exec.installHint === undefined ? '' : `\n${exec.installHint.trim()}`;
        reject(new Error(`${this.#what()} could not be started: ${error.message}${hint}`, { cause: error }));
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        if (timedOut) {
          reject(new Error(`${this.#what()} did not finish within ${timeoutMs} ms and was killed`));
        } else if (tooLarge) {
          reject(new Error(`${this.#what()} printed more than ${maxOutputBytes} bytes; that is no ExecCredential`));
        } else if (code === 0) {
          resolve(Buffer.concat(out).toString('utf8'));
        } else {
          const how = signal === null ? `exited with status ${code ?? '?'}` : `was killed by ${signal}`;
          const stderr = err.trim();
          reject(new Error(`${this.#what()} ${how}${stderr === '' ? '' : `: ${stderr}`}`));
        }
      });
    });
  }

  /** Reads the plugin's stdout; error messages say what is wrong with it, never what it contains. */
  #parse(stdout: string): Cached {
    const { exec } = this.#options;
    let parsed: unknown;
    try {
      parsed = JSON.parse(stdout);
    } catch {
      throw new Error(`${this.#what()} printed ${stdout.length} characters that are not JSON; expected an ExecCredential`);
    }
    if (!isRecord(parsed) || parsed.kind !== 'ExecCredential') throw new Error(`${this.#what()} printed JSON that is not an ExecCredential`);
    if (parsed.apiVersion !== exec.apiVersion) {
      throw new Error(`${this.#what()} answered in ${JSON.stringify(parsed.apiVersion)}, but the kubeconfig asks for ${exec.apiVersion}`);
    }
    const status = parsed.status;
    if (!isRecord(status)) throw new Error(`${this.#what()} returned an ExecCredential without status`);
    const token = optionalString(status.token, 'status.token', this.#what());
    const certPem = optionalString(status.clientCertificateData, 'status.clientCertificateData', this.#what());
    const keyPem = optionalString(status.clientKeyData, 'status.clientKeyData', this.#what());
    if ((certPem === undefined) !== (keyPem === undefined)) {
      throw new Error(`${this.#what()} returned only one of status.clientCertificateData and status.clientKeyData; both are needed`);
    }
    if (token === undefined && certPem === undefined) {
      throw new Error(`${this.#what()} returned neither status.token nor status.clientCertificateData/clientKeyData`);
    }
    const expiry = optionalString(status.expirationTimestamp, 'status.expirationTimestamp', this.#what());
    const expiresAt = expiry === undefined ? undefined : Date.parse(expiry);
    if (expiresAt !== undefined && Number.isNaN(expiresAt)) {
      throw new Error(`${this.#what()} returned status.expirationTimestamp ${JSON.stringify(expiry)}, which is not a time`);
    }
    const clientCertificate: ClientCertificate | undefined = certPem === undefined || keyPem === undefined ? undefined : { certPem, keyPem };
    return {
      credentials: { ...(token === undefined ? {} : { token }), ...(clientCertificate === undefined ? {} : { clientCertificate }) },
      expiresAt,
    };
  }

  #what(): string {
    return `exec plugin ${JSON.stringify(this.#options.exec.command)} of kubeconfig user ${JSON.stringify(this.#options.user)}`;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalString(value: unknown, field: string, what: string): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new Error(`${what} returned ${field} that is not a string`);
  return value;
}
