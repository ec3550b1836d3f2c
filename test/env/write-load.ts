// A client that writes without pause, as a busy site does, and remembers
// which writes the server acknowledged. Each write inserts the next number;
// on any error (server gone, connection killed, a commit that hangs because
// no replica acknowledges it) the connection is dropped and a new one is
// opened, and the unacknowledged number is simply not counted. Afterwards
// `missingWrites` looks up every acknowledged number on the server that is
// writer now: a failover or switchover that loses one is a failed test.
import * as mariadb from 'mariadb';
import { setTimeout as sleep } from 'node:timers/promises';

export interface WriteLoadOptions {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  /** Table created when missing: (n INT PRIMARY KEY, at TIMESTAMP(6)). */
  table?: string;
  /** A write not acknowledged within this time counts as failed; default 2000. */
  writeTimeoutMs?: number;
  /** Pause after a failed connection attempt; default 50. */
  retryPauseMs?: number;
}

export interface AcknowledgedWrite {
  readonly n: number;
  /** Epoch milliseconds (with fractions) when the acknowledgement arrived. */
  readonly at: number;
}

export interface WriteLoadResult {
  readonly acknowledged: readonly AcknowledgedWrite[];
  /** Writes sent that got an error or no answer in time. */
  readonly failed: number;
  readonly reconnects: number;
}

export interface WriteLoad {
  /** Acknowledged so far (a live view, for waiting on progress). */
  readonly acknowledgedCount: number;
  /** Resolves once `count` more writes than now were acknowledged, or rejects after `timeoutMs`. */
  waitForWrites(count: number, timeoutMs: number): Promise<void>;
  stop(): Promise<WriteLoadResult>;
}

const now = (): number => performance.timeOrigin + performance.now();

function tableName(options: WriteLoadOptions): string {
  const table = options.table ?? 'writes';
  if (!/^[a-z_][a-z0-9_]*$/.test(table) || !/^[a-z_][a-z0-9_]*$/.test(options.database)) {
    throw new Error(`write load: plain lower-case names only, got ${options.database}.${table}`);
  }
  return `\`${options.database}\`.\`${table}\``;
}

/** Creates the table when missing and starts writing 1, 2, 3 … in the background. */
export async function startWriteLoad(options: WriteLoadOptions): Promise<WriteLoad> {
  const table = tableName(options);
  const timeoutMs = options.writeTimeoutMs ?? 2000;
  const connectOptions = { host: options.host, port: options.port, user: options.user, password: options.password, connectTimeout: 1000 };
  const setup = await mariadb.createConnection(connectOptions);
  try {
    await setup.query(`CREATE TABLE IF NOT EXISTS ${table} (n INT PRIMARY KEY, at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6))`);
  } finally {
    await setup.end();
  }

  const acknowledged: AcknowledgedWrite[] = [];
  let failed = 0;
  let reconnects = 0;
  let stopping = false;
  const waiters = new Set<() => void>();

  const writeOnce = async (connection: mariadb.Connection, n: number): Promise<void> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new Error(`write ${n} not acknowledged within ${timeoutMs} ms`));
      }, timeoutMs);
    });
    try {
      await Promise.race([connection.query(`INSERT INTO ${table} (n) VALUES (?)`, [n]), timeout]);
    } finally {
      clearTimeout(timer);
    }
  };

  const loop = async (): Promise<void> => {
    let n = 0;
    let connection: mariadb.Connection | undefined;
    while (!stopping) {
      if (connection === undefined) {
        try {
          connection = await mariadb.createConnection(connectOptions);
        } catch {
          reconnects++;
          await sleep(options.retryPauseMs ?? 50);
          continue;
        }
      }
      n++;
      try {
        await writeOnce(connection, n);
        acknowledged.push({ n, at: now() });
        for (const wake of waiters) wake();
      } catch {
        failed++;
        reconnects++;
        // destroy, not end: the server may never answer a polite goodbye.
        connection.destroy();
        connection = undefined;
      }
    }
    if (connection !== undefined) {
      const last = connection;
      await last.end().catch(() => {
        last.destroy();
      });
    }
  };
  const running = loop();

  return {
    get acknowledgedCount() {
      return acknowledged.length;
    },
    async waitForWrites(count, waitMs) {
      const target = acknowledged.length + count;
      const deadline = Date.now() + waitMs;
      while (acknowledged.length < target) {
        if (Date.now() > deadline) throw new Error(`only ${acknowledged.length} of ${target} writes acknowledged within ${waitMs} ms`);
        await new Promise<void>((resolve) => {
          const wake = (): void => {
            waiters.delete(wake);
            resolve();
          };
          waiters.add(wake);
          setTimeout(wake, 100);
        });
      }
    },
    async stop() {
      stopping = true;
      await running;
      return { acknowledged: [...acknowledged], failed, reconnects };
    },
  };
}

/** The acknowledged numbers the server at `options` does not have. */
export async function missingWrites(options: WriteLoadOptions, result: WriteLoadResult): Promise<number[]> {
  const connection = await mariadb.createConnection({ host: options.host, port: options.port, user: options.user, password: options.password });
  try {
    const rows = await connection.query<{ n: number }[]>(`SELECT n FROM ${tableName(options)}`);
    const present = new Set(rows.map((r) => r.n));
    return result.acknowledged.filter((w) => !present.has(w.n)).map((w) => w.n);
  } finally {
    await connection.end();
  }
}

/** The longest time between two consecutive acknowledgements, and when it began (epoch ms). */
export function longestGap(result: WriteLoadResult): { gapMs: number; after: number } {
  let gapMs = 0;
  let after = 0;
  const acks = result.acknowledged;
  for (let i = 1; i < acks.length; i++) {
    const previous = acks[i - 1];
    const current = acks[i];
    if (previous === undefined || current === undefined) continue;
    const gap = current.at - previous.at;
    if (gap > gapMs) {
      gapMs = gap;
      after = previous.at;
    }
  }
  return { gapMs, after };
}

/** Milliseconds from `since` (epoch ms) to the first acknowledgement after it; undefined when none came. */
export function firstWriteAfter(result: WriteLoadResult, since: number): number | undefined {
  const first = result.acknowledged.find((w) => w.at > since);
  return first === undefined ? undefined : first.at - since;
}
