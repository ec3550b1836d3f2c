// Free TCP ports on loopback for the servers the environment starts.
import { connect, createServer } from 'node:net';

/**
 * A port that was free a moment ago on 127.0.0.1. The kernel hands out
 * ephemeral ports in order, so a port released here is not given to the next
 * caller; the small window before the server binds it is accepted.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        reject(new Error('could not read the address of a probe socket'));
        return;
      }
      server.close(() => {
        resolve(address.port);
      });
    });
  });
}

/** Whether something accepts connections on 127.0.0.1:port. */
export function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      resolve(false);
    });
  });
}
