// What the runtime needs to reach one Kubernetes API server and prove who it
// is: the server's URL and how to trust it, and a source of credentials that
// may change while the operator runs (a rotated service-account token, a
// cloud token from an exec plugin that expires). Loaded by kubeconfig.ts, used
// by kube-request.ts; deliberately not client-node's KubeConfig, whose import
// alone costs about 100 MB of memory.

/** A client certificate and its private key, both PEM. */
export interface ClientCertificate {
  readonly certPem: string;
  readonly keyPem: string;
}

/** What is sent with one request: a bearer token, a client certificate, both, or neither (anonymous). */
export interface KubeCredentials {
  /** Sent as `Authorization: Bearer <token>`. */
  readonly token?: string;
  /** Presented in the TLS handshake. */
  readonly clientCertificate?: ClientCertificate;
}

/** Where credentials come from; asked before every request. */
export interface CredentialSource {
  /**
   * The credentials to send now. Sources that cache (a token file, an exec
   * plugin) answer from their cache while it is valid. Rejects when no
   * credentials can be had (the plugin failed, the token file was never
   * readable); the message never contains a credential.
   */
  get(): Promise<KubeCredentials>;
  /** Drops anything cached, so that the next get() reads or runs again. Called after the API server answered 401. */
  invalidate(): void;
}

/** Everything needed to send requests to one API server. */
export interface KubeAccess {
  /** Base URL of the API server without a trailing slash, e.g. https://10.96.0.1:443; it may carry a path prefix (an API proxy). */
  readonly server: string;
  /** PEM of the certificate authorities the server's certificate must chain to; undefined: Node's built-in root CAs. */
  readonly caPem: string | undefined;
  /** When true the server's certificate is not verified at all (kubeconfig `insecure-skip-tls-verify`). */
  readonly insecureSkipTlsVerify: boolean;
  /** The name the server's certificate is checked against instead of the URL's host (kubeconfig `tls-server-name`). */
  readonly tlsServerName: string | undefined;
  /** The default namespace: the context's, or the pod's in a cluster; undefined when neither names one. */
  readonly namespace: string | undefined;
  /** Where these settings came from, safe for logs: `kubeconfig /home/a/.kube/config, context dev`, `in-cluster service account`. */
  readonly source: string;
  /** The credentials for the next request; see CredentialSource.get. */
  credentials(): Promise<KubeCredentials>;
  /** See CredentialSource.invalidate; the transport calls it after a 401. */
  invalidateCredentials(): void;
  /** The server URL, without any user:password part: the only thing about the access that goes into logs and error messages. */
  describe(): string;
}

export interface KubeAccessSettings {
  server: string;
  caPem?: string | undefined;
  insecureSkipTlsVerify?: boolean;
  tlsServerName?: string | undefined;
  namespace?: string | undefined;
  source: string;
  credentials: CredentialSource;
}

/** A KubeAccess from its parts. Throws when `server` is not an http(s) URL (the message names it without user info). */
export function kubeAccess(settings: KubeAccessSettings): KubeAccess {
  let url: URL;
  try {
    url = new URL(settings.server);
  } catch {
    throw new Error(`${settings.source}: the server ${JSON.stringify(redactUrl(settings.server))} is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new Error(`${settings.source}: the server ${redactUrl(settings.server)} is neither https:// nor http://`);
  }
  const server = settings.server.replace(/\/+$/, '');
  const shown = redactUrl(server);
  const { credentials } = settings;
  return {
    server,
    caPem: settings.caPem,
    insecureSkipTlsVerify: settings.insecureSkipTlsVerify ?? false,
    tlsServerName: settings.tlsServerName,
    namespace: settings.namespace,
    source: settings.source,
    credentials: () => credentials.get(),
    invalidateCredentials: () => {
      credentials.invalidate();
    },
    describe: () => shown,
  };
}

/** A source that always answers `credentials`. */
export function staticCredentials(credentials: KubeCredentials): CredentialSource {
  return {
    get: () => Promise.resolve(credentials),
    invalidate: () => undefined,
  };
}

/** `url` without a user:password part; text that is no URL is returned as is. */
function redactUrl(text: string): string {
  try {
    const url = new URL(text);
    if (url.username === '' && url.password === '') return text;
    url.username = '';
    url.password = '';
    return url.toString().replace(/\/+$/, '');
  } catch {
    return text.replace(/\/\/[^/@]*@/, '//');
  }
}
