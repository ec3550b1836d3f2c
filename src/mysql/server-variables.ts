// Global server variables of one MariaDB server: read what is in effect, and
// change a dynamic one with SET GLOBAL. Reach it as MySQLClient.variables.
//
// Only names of the allow-list (dynamic-variables.ts) that also satisfy the
// identifier rule get into a statement; the value always travels as a bound
// parameter. Errors are MySQLErrors (safe to show: MariaDB's reason, such as
// a value it refuses, without SQL text), or, before any I/O,
// InvalidIdentifierError / InvalidServerVariableError.
import { checkDynamicVariable, type VariableValue } from './dynamic-variables.ts';
import { quoteIdentifier, systemVariableName, validate } from './identifiers.ts';
import { rowsOf, text, type RunStatement } from './statement.ts';

export class ServerVariables {
  readonly #run: RunStatement;

  constructor(run: RunStatement) {
    this.#run = run;
  }

  /**
   * The global values of `names` as the server reports them (text, as in
   * information_schema.GLOBAL_VARIABLES: 'ON', '10.000000', '67108864'), by
   * the lower-case name; a name the server does not know is absent. One read,
   * no write.
   */
  async globalValues(names: readonly string[]): Promise<Map<string, string>> {
    const wanted = [...new Set(names.map((name) => validate(systemVariableName, name)))];
    const values = new Map<string, string>();
    if (wanted.length === 0) return values;
    const rows = rowsOf(
      await this.#run({
        kind: 'read',
        verb: 'SELECT',
        sql: `SELECT VARIABLE_NAME AS name, VARIABLE_VALUE AS value FROM information_schema.GLOBAL_VARIABLES WHERE VARIABLE_NAME IN (${wanted.map(() => '?').join(', ')})`,
        values: wanted.map((name) => name.toUpperCase()),
      }),
    );
    for (const row of rows) values.set(text(row, 'name').toLowerCase(), row.value === null ? '' : text(row, 'value'));
    return values;
  }

  /** SET GLOBAL `name` = value, for a variable of the allow-list only; the value is bound, never part of the statement text. */
  async setGlobal(name: string, value: VariableValue): Promise<void> {
    checkDynamicVariable(name, value);
    await this.#run({ kind: 'write', verb: 'SET GLOBAL', sql: `SET GLOBAL ${quoteIdentifier(systemVariableName, name)} = ?`, values: [value] });
  }
}
