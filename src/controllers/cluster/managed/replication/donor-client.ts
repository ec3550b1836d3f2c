// The operator's side of an instance's donor endpoint (builders/seed.ts has
// the protocol): it answers the endpoint's nonce with the proof of the shared
// secret and sends one command. The operator only ever sends `rebuild`, which
// marks the instance's own data directory to be discarded at its next start;
// the copies themselves flow between pods, never through the operator.
import { createHash } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { donorGreeting } from '../builders/seed.ts';

export class DonorRequestError extends Error {
  constructor(endpoint: string, what: string) {
    super(`donor endpoint ${endpoint}: ${what}`);
    this.name = 'DonorRequestError';
  }
}

/** sha256 hex of "<nonce>:<secret>": what the endpoint expects in answer to its nonce. */
export function donorProof(nonce: string, secret: string): string {
  return createHash('sha256').update(`${nonce}:${secret}`).digest('hex');
}

/**
 * Sends `command` to the donor endpoint at host:port and resolves once it
 * answered "ok <command>". Rejects with DonorRequestError on a refusal, an
 * endpoint that is not one, a closed connection or `timeoutMs` without an
 * answer. The secret never crosses the network, and is in no error.
 */
export async function sendDonorCommand(
  host: string,
  port: number,
  secret: string,
  command: 'rebuild',
  signal: AbortSignal,
  timeoutMs = 5000,
): Promise<void> {
  signal.throwIfAborted();
  const endpoint = `${host}:${port}`;
  const socket = connect({ host, port });
  const timer = setTimeout(() => socket.destroy(new DonorRequestError(endpoint, `no answer within ${timeoutMs} ms`)), timeoutMs);
  const onAbort = (): void => {
    socket.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
  };
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    const lines = lineReader(socket, endpoint);
    const greeting = await lines.next();
    if (!greeting.startsWith(`${donorGreeting} `)) throw new DonorRequestError(endpoint, 'is no donor endpoint (unexpected greeting)');
    const nonce = greeting.slice(donorGreeting.length + 1).trim();
    if (!/^[0-9a-f]{16,}$/.test(nonce)) throw new DonorRequestError(endpoint, 'sent an unusable nonce');
    socket.write(`${donorProof(nonce, secret)} ${command}\n`);
    const answer = await lines.next();
    if (answer !== `ok ${command}`) throw new DonorRequestError(endpoint, `refused ${command}: ${answer.slice(0, 80)}`);
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
    socket.destroy();
  }
}

/** Reads the socket line by line; a line is at most 1 KiB (the endpoint's lines are short). */
function lineReader(socket: Socket, endpoint: string): { next(): Promise<string> } {
  let buffered = '';
  const waiting: { resolve: (line: string) => void; reject: (error: Error) => void }[] = [];
  let failure: Error | undefined;
  const flush = (): void => {
    for (;;) {
      const newline = buffered.indexOf('\n');
      const waiter = waiting[0];
      if (newline < 0 || waiter === undefined) break;
      waiting.shift();
      waiter.resolve(buffered.slice(0, newline));
      buffered = buffered.slice(newline + 1);
    }
    if (buffered.length > 1024) fail(new DonorRequestError(endpoint, 'sent a line longer than 1 KiB'));
  };
  const fail = (error: Error): void => {
    failure ??= error;
    for (const waiter of waiting.splice(0)) waiter.reject(failure);
  };
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffered += chunk;
    flush();
  });
  socket.on('error', (error) => {
    fail(error instanceof DonorRequestError ? error : new DonorRequestError(endpoint, error.message));
  });
  socket.on('close', () => {
    fail(new DonorRequestError(endpoint, 'closed the connection'));
  });
  return {
    next: () =>
      new Promise<string>((resolve, reject) => {
        waiting.push({ resolve, reject });
        flush();
        if (failure !== undefined && waiting.length > 0) fail(failure);
      }),
  };
}
