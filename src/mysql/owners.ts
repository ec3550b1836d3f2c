// Who owns which database and user, recorded on the server itself in
// flightdeck_meta.owners. Kept there rather than in Kubernetes so that the
// record survives an operator restart and a Velero-style restore of the
// Kubernetes objects (which gives them new uids), and so that two objects —
// possibly in different namespaces — cannot both adopt one database.
//
// Reads never write: a resync that finds its own record sends nothing. The
// table is created on the first claim that needs it, once per client.
import { databaseName, hostName, operatorDatabase, quoteIdentifier, tableName, userName, validate } from './identifiers.ts';
import { MySQLError } from './errors.ts';
import { affectedRows, rowsOf, text, type RunStatement } from './statement.ts';

/** The Kubernetes object that owns a database or user. */
export interface Owner {
  namespace: string;
  name: string;
  uid: string;
}

export type OwnedKind = 'database' | 'user';

/** Thrown, before any statement is sent, for a key or owner that cannot be recorded. */
export class InvalidOwnerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidOwnerError';
  }
}

const ownersTable = `${quoteIdentifier(databaseName, operatorDatabase)}.${quoteIdentifier(tableName, 'owners')}`;

// `key` is a reserved word. The key holds a database name, or user (80) + '@'
// + host (255). Binary collation: database and user names are case-sensitive.
const createTableSql = `CREATE TABLE IF NOT EXISTS ${ownersTable} (
  kind VARCHAR(16) NOT NULL,
  \`key\` VARCHAR(340) NOT NULL,
  namespace VARCHAR(63) NOT NULL,
  name VARCHAR(253) NOT NULL,
  uid VARCHAR(128) NOT NULL,
  created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  PRIMARY KEY (kind, \`key\`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin COMMENT='Flight Deck Operator: the Kubernetes object owning each database and user'`;

/**
 * `key` checked for its kind: a database name, or `user@host` (the host is
 * stored in lower case, as MariaDB stores account hosts). Throws
 * InvalidIdentifierError or InvalidOwnerError.
 */
export function ownerKey(kind: OwnedKind, key: string): string {
  if (kind === 'database') return validate(databaseName, key);
  const at = key.indexOf('@');
  if (at === -1) throw new InvalidOwnerError(`user key ${JSON.stringify(key)} must be user@host`);
  return `${validate(userName, key.slice(0, at))}@${validate(hostName, key.slice(at + 1)).toLowerCase()}`;
}

const ownerLimits: Readonly<Record<keyof Owner, number>> = { namespace: 63, name: 253, uid: 128 };

function checkOwner(owner: Owner): void {
  for (const field of ['namespace', 'name', 'uid'] as const) {
    const value = owner[field];
    // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
    if (value.length === 0 || value.length > ownerLimits[field] || /[\u0000-\u001f\u007f]/.test(value)) {
      throw new InvalidOwnerError(`owner ${field} must be 1 to ${ownerLimits[field]} printable characters`);
    }
  }
}

/** Errors meaning the table (or its database) is gone: dropped by hand after this client saw it. */
function isMissingTable(error: unknown): boolean {
  return error instanceof MySQLError && (error.errno === 1146 || error.errno === 1049);
}

export class OwnerRecords {
  readonly #run: RunStatement;
  /** The table is known to exist; cleared when a statement finds it gone. */
  #exists = false;
  #creating: Promise<void> | undefined;

  constructor(run: RunStatement) {
    this.#run = run;
  }

  async get(kind: OwnedKind, key: string): Promise<Owner | undefined> {
    const k = ownerKey(kind, key);
    if (!(await this.#tableExists())) return undefined;
    return this.#select(kind, k);
  }

  async claim(kind: OwnedKind, key: string, owner: Owner): Promise<Owner> {
    const k = ownerKey(kind, key);
    checkOwner(owner);
    if (await this.#tableExists()) {
      const recorded = await this.#select(kind, k);
      if (recorded !== undefined) return recorded;
    } else {
      await this.#createTable();
    }
    // The primary key makes this atomic: of two concurrent claims, one row
    // is inserted; the other claimant reads the winner back.
    const inserted = await this.#write({
      verb: 'INSERT',
      sql: `INSERT IGNORE INTO ${ownersTable} (kind, \`key\`, namespace, name, uid) VALUES (?, ?, ?, ?, ?)`,
      values: [kind, k, owner.namespace, owner.name, owner.uid],
    });
    if (affectedRows(inserted) === 1) return { namespace: owner.namespace, name: owner.name, uid: owner.uid };
    const recorded = await this.#select(kind, k);
    if (recorded === undefined) throw new Error(`the owner record of ${kind} ${k} vanished right after it was written`);
    return recorded;
  }

  async transfer(kind: OwnedKind, key: string, owner: Owner): Promise<boolean> {
    const k = ownerKey(kind, key);
    checkOwner(owner);
    if (!(await this.#tableExists())) return false;
    const result = await this.#write({
      verb: 'UPDATE',
      sql: `UPDATE ${ownersTable} SET uid = ? WHERE kind = ? AND \`key\` = ? AND namespace = ? AND name = ? AND uid <> ?`,
      values: [owner.uid, kind, k, owner.namespace, owner.name, owner.uid],
    });
    return affectedRows(result) > 0;
  }

  async release(kind: OwnedKind, key: string, uid: string): Promise<void> {
    const k = ownerKey(kind, key);
    if (!(await this.#tableExists())) return;
    await this.#write({
      verb: 'DELETE',
      sql: `DELETE FROM ${ownersTable} WHERE kind = ? AND \`key\` = ? AND uid = ?`,
      values: [kind, k, uid],
    });
  }

  async #select(kind: OwnedKind, key: string): Promise<Owner | undefined> {
    const rows = rowsOf(
      await this.#guard(
        this.#run({
          kind: 'read',
          verb: 'SELECT',
          sql: `SELECT namespace, name, uid FROM ${ownersTable} WHERE kind = ? AND \`key\` = ?`,
          values: [kind, key],
        }),
      ),
    );
    const row = rows[0];
    return row === undefined ? undefined : { namespace: text(row, 'namespace'), name: text(row, 'name'), uid: text(row, 'uid') };
  }

  #write(statement: { verb: string; sql: string; values: readonly unknown[] }): Promise<unknown> {
    return this.#guard(this.#run({ kind: 'write', ...statement }));
  }

  /** Forgets that the table exists when a statement finds it gone, so the next claim creates it again. */
  async #guard<T>(pending: Promise<T>): Promise<T> {
    try {
      return await pending;
    } catch (error) {
      if (isMissingTable(error)) this.#exists = false;
      throw error;
    }
  }

  async #tableExists(): Promise<boolean> {
    if (this.#exists) return true;
    const rows = rowsOf(
      await this.#run({
        kind: 'read',
        verb: 'SELECT',
        sql: 'SELECT 1 AS found FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?',
        values: [operatorDatabase, 'owners'],
      }),
    );
    this.#exists = rows.length > 0;
    return this.#exists;
  }

  async #createTable(): Promise<void> {
    this.#creating ??= (async () => {
      try {
        await this.#run({
          kind: 'write',
          verb: 'CREATE DATABASE',
          sql: `CREATE DATABASE IF NOT EXISTS ${quoteIdentifier(databaseName, operatorDatabase)} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`,
        });
        await this.#run({ kind: 'write', verb: 'CREATE TABLE', sql: createTableSql });
        this.#exists = true;
      } finally {
        this.#creating = undefined;
      }
    })();
    return this.#creating;
  }
}
