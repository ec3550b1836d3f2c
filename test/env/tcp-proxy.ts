// A TCP forwarder that stands in for a Kubernetes Service in tests that run
// MariaDB as plain processes: new connections go to the current target, and
// connections already open stay with the server they reached — as with
// kube-proxy, whose conntrack entries keep an established connection on its
// old endpoint after the Service moves. A server that closes its side (a
// demoted primary killing client connections) closes the client's too.
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface ProxyTarget {
  readonly host: string;
  readonly port: number;
}

export interface TcpProxy {
  /** The port clients connect to, on 127.0.0.1. */
  readonly port: number;
  /** Where new connections go; undefined refuses them (a Service without endpoints). */
  setTarget(target: ProxyTarget | undefined): void;
  readonly target: ProxyTarget | undefined;
  /** Connections open now, by target "host:port". */
  openConnections(): Map<string, number>;
  close(): Promise<void>;
}

export async function startTcpProxy(initial: ProxyTarget | undefined): Promise<TcpProxy> {
  let target = initial;
  const pairs = new Set<{ client: Socket; server: Socket; to: string }>();
  const server: Server = createServer((client) => {
    const to = target;
    if (to === undefined) {
      client.destroy();
      return;
    }
    const upstream = connect({ host: to.host, port: to.port });
    const pair = { client, server: upstream, to: `${to.host}:${to.port}` };
    pairs.add(pair);
    const end = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('could not read the address of the proxy');
  return {
    port: address.port,
    get target() {
      return target;
    },
    setTarget(next) {
      target = next;
    },
    openConnections() {
      const counts = new Map<string, number>();
      for (const p of pairs) counts.set(p.to, (counts.get(p.to) ?? 0) + 1);
      return counts;
    },
    async close() {
      for (const p of pairs) {
        p.client.destroy();
        p.server.destroy();
      }
      pairs.clear();
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
    },
  };
}
