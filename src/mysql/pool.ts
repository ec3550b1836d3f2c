// A small pool of connections to one server, opened on demand. Not the
// connector's own pool: that one keeps retrying a failed connection in the
// background until its acquire timeout and then reports "pool timeout", so a
// wrong password or a closed port surfaced seconds late and only as a nested
// cause. Here the statement that needed the connection fails at once with the
// connector's own error, and nothing touches the network while nobody asks.
import * as mariadb from 'mariadb';

export interface PoolSettings {
  /** Most connections open at once; more callers wait for one to be returned. */
  readonly size: number;
  /** Idle connections older than this are closed, so an idle operator holds none. */
  readonly idleTimeoutMs: number;
  /**
   * A connection idle for longer is pinged before reuse: after a server
   * restart the statement then gets a fresh connection instead of failing on
   * a dead one.
   */
  readonly validateAfterMs: number;
  /** How long that ping may take before the connection counts as dead. */
  readonly pingTimeoutMs: number;
}

/** Thrown by `use` after `close`. */
export class PoolClosedError extends Error {
  constructor() {
    super('the connection pool is closed');
    this.name = 'PoolClosedError';
  }
}

interface IdleConnection {
  readonly connection: mariadb.Connection;
  readonly since: number;
}

export class ConnectionPool {
  readonly #config: mariadb.ConnectionConfig;
  readonly #settings: PoolSettings;
  #idle: IdleConnection[] = [];
  #open = 0;
  #waiters: (() => void)[] = [];
  #closed = false;
  #reaper: NodeJS.Timeout | undefined;

  constructor(config: mariadb.ConnectionConfig, settings: PoolSettings) {
    this.#config = config;
    this.#settings = settings;
  }

  /**
   * Runs `work` on a connection and returns the connection afterwards (or
   * drops it when it broke). Rejects with what opening a connection threw —
   * the connector's error, e.g. ECONNREFUSED or ER_ACCESS_DENIED_ERROR — or
   * with what `work` threw; with PoolClosedError after close().
   */
  async use<T>(work: (connection: mariadb.Connection) => Promise<T>): Promise<T> {
    const connection = await this.#acquire();
    try {
      return await work(connection);
    } finally {
      this.#release(connection);
    }
  }

  /** Closes idle connections now and the others when they are returned; later `use` calls reject. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#reaper !== undefined) clearInterval(this.#reaper);
    this.#reaper = undefined;
    const idle = this.#idle;
    this.#idle = [];
    for (const wake of this.#waiters.splice(0)) wake();
    await Promise.all(idle.map(({ connection }) => this.#end(connection)));
  }

  async #acquire(): Promise<mariadb.Connection> {
    for (;;) {
      if (this.#closed) throw new PoolClosedError();
      const idle = this.#idle.pop();
      if (idle !== undefined) {
        if (await this.#usable(idle)) return idle.connection;
        this.#drop(idle.connection);
        continue;
      }
      if (this.#open < this.#settings.size) return this.#openConnection();
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  async #openConnection(): Promise<mariadb.Connection> {
    this.#open++;
    let connection: mariadb.Connection;
    try {
      connection = await mariadb.createConnection(this.#config);
    } catch (error) {
      this.#open--;
      this.#wakeOne();
      throw error;
    }
    // The connector emits 'error' on a connection that the server closes
    // while idle (shutdown, wait_timeout, KILL); without a listener that
    // would crash the process. The connection is useless then: forget it.
    connection.on('error', () => {
      this.#forget(connection);
    });
    if (this.#closed) {
      this.#drop(connection);
      throw new PoolClosedError();
    }
    return connection;
  }

  async #usable(idle: IdleConnection): Promise<boolean> {
    if (!idle.connection.isValid()) return false;
    if (Date.now() - idle.since < this.#settings.validateAfterMs) return true;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => {
      timer = setTimeout(() => {
        resolve(false);
      }, this.#settings.pingTimeoutMs);
    });
    try {
      return await Promise.race([
        idle.connection.ping().then(
          () => true,
          () => false,
        ),
        timedOut,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  #release(connection: mariadb.Connection): void {
    if (this.#closed || !connection.isValid()) {
      this.#drop(connection);
    } else {
      this.#idle.push({ connection, since: Date.now() });
      this.#startReaper();
    }
    this.#wakeOne();
  }

  /** Closes a connection the pool no longer keeps and frees its slot. */
  #drop(connection: mariadb.Connection): void {
    this.#open--;
    if (connection.isValid()) {
      void this.#end(connection);
    } else {
      connection.destroy();
    }
  }

  /** A connection that broke on its own: out of the idle list, slot freed. In use, it is dropped on release instead. */
  #forget(connection: mariadb.Connection): void {
    const i = this.#idle.findIndex((idle) => idle.connection === connection);
    if (i === -1) return;
    this.#idle.splice(i, 1);
    this.#open--;
    this.#wakeOne();
  }

  async #end(connection: mariadb.Connection): Promise<void> {
    // A polite COM_QUIT; when even that fails the socket is simply closed.
    await connection.end().catch(() => {
      connection.destroy();
    });
  }

  #wakeOne(): void {
    this.#waiters.shift()?.();
  }

  #startReaper(): void {
    if (this.#reaper !== undefined) return;
    this.#reaper = setInterval(
      () => {
        this.#reap();
      },
      Math.max(1000, this.#settings.idleTimeoutMs / 2),
    );
    // An idle pool must not keep the process alive.
    this.#reaper.unref();
  }

  #reap(): void {
    const cutoff = Date.now() - this.#settings.idleTimeoutMs;
    const old = this.#idle.filter((idle) => idle.since < cutoff);
    this.#idle = this.#idle.filter((idle) => idle.since >= cutoff);
    for (const { connection } of old) this.#drop(connection);
    if (this.#idle.length === 0 && this.#reaper !== undefined) {
      clearInterval(this.#reaper);
      this.#reaper = undefined;
    }
  }
}
