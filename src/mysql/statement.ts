// One SQL statement as the client runs it, and typed access to what it
// returns. Values travel as `?` placeholders; the text holds only keywords
// and identifiers quoted by identifiers.ts.

export type StatementKind = 'read' | 'write';

/**
 * Called after every statement, also after a failed one: for metrics and for
 * tests that count writes. `verb` is e.g. 'CREATE DATABASE', 'GRANT',
 * 'SELECT'. It must not throw: its exception would replace the statement's
 * result.
 */
export type StatementObserver = (kind: StatementKind, verb: string, durationMs: number, failed: boolean) => void;

export interface Statement {
  readonly kind: StatementKind;
  /** What the observer and error messages call the statement. */
  readonly verb: string;
  readonly sql: string;
  readonly values?: readonly unknown[];
  /**
   * Strings that must never appear in an error about this statement (a
   * password and its hash); they are replaced by `[redacted]`.
   */
  readonly secrets?: readonly string[];
  /**
   * Send through the binary protocol (COM_STMT_PREPARE/EXECUTE): the values
   * travel as typed parameters beside the statement text instead of being
   * escaped into it by the connector. For a value that must not be part of
   * any statement text, such as a replication password (replication.ts).
   */
  readonly binary?: boolean;
}

/**
 * Runs `work` with statements that all use one connection, closed afterwards
 * so that session state (user variables, session settings) never reaches a
 * later statement. Rejects with a MySQLError.
 */
export type RunSession = <T>(verb: string, work: (run: RunStatement) => Promise<T>) => Promise<T>;

/** Runs a statement and resolves to what the connector returned; rejects with a MySQLError. */
export type RunStatement = (statement: Statement) => Promise<unknown>;

export type Row = Readonly<Record<string, unknown>>;

/** The rows of a SELECT. Throws when the result is not a row list, which would be a bug in the statement. */
export function rowsOf(result: unknown): Row[] {
  if (!Array.isArray(result)) throw new Error('expected rows from a SELECT');
  return result.filter((row): row is Row => typeof row === 'object' && row !== null);
}

/** Rows changed (or matched) by an INSERT, UPDATE or DELETE. */
export function affectedRows(result: unknown): number {
  const n = typeof result === 'object' && result !== null ? (result as Record<string, unknown>).affectedRows : undefined;
  if (typeof n === 'number') return n;
  if (typeof n === 'bigint') return Number(n);
  throw new Error('expected an affected-rows count from a write');
}

/** A column that must be text. */
export function text(row: Row, column: string): string {
  const value = row[column];
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  throw new Error(`expected text in column ${column}, got ${value === null ? 'NULL' : typeof value}`);
}

/** A column that may be NULL. */
export function optionalText(row: Row, column: string): string | undefined {
  return row[column] === null || row[column] === undefined ? undefined : text(row, column);
}

/** A column holding an integer as a number, bigint or decimal string; `fallback` for NULL. */
export function integer(row: Row, column: string, fallback: number): number {
  const value = row[column];
  if (value === null || value === undefined) return fallback;
  const n = typeof value === 'number' ? value : typeof value === 'bigint' ? Number(value) : typeof value === 'string' ? Number(value) : NaN;
  if (!Number.isSafeInteger(n)) throw new Error(`expected an integer in column ${column}`);
  return n;
}
