// The user's spec.myCnf, read as MariaDB reads an option file, and sorted:
// options MariaDB can change at run time (applied live with SET GLOBAL, no
// restart: the point of this operator), options that need a restart (applied
// by a rolling restart), and options the operator sets itself and refuses to
// let a user override. Pure; the reconciler turns the result into SET GLOBAL
// statements through src/mysql, Events and a rolling restart.

import { dynamicVariables, type VariableKind as ValueKind } from '../../../../mysql/dynamic-variables.ts';

// The allow-list of live options lives with the SQL client, which refuses any other name in SET GLOBAL.
export { dynamicVariables };

/**
 * Options the operator sets and a user may not: replication, failover and
 * the Services depend on them. (server_id comes from the pod's ordinal; the
 * semi-synchronous options from spec.replication.)
 */
export const operatorOwnedOptions: ReadonlySet<string> = new Set([
  'server_id',
  'log_bin',
  'log_basename',
  'relay_log',
  'binlog_format',
  'log_slave_updates',
  'gtid_strict_mode',
  'gtid_domain_id',
  'read_only',
  'super_read_only',
  'skip_slave_start',
  'datadir',
  'socket',
  'port',
  'bind_address',
  'skip_networking',
  'skip_grant_tables',
  'skip_name_resolve',
  'init_file',
]);
const operatorOwnedPrefixes = ['rpl_semi_sync_'];

/** A user option that is applied live: SET GLOBAL name = value. Value already checked and converted (sizes to bytes, booleans to ON/OFF). */
export interface LiveSetting {
  readonly name: string;
  readonly value: number | string;
}

/** An option as written (one line of spec.myCnf, without comments). */
export interface WrittenOption {
  /** Normalised name: lower case, "_" for "-", without "loose_". */
  readonly name: string;
  /** The line as it goes into my.cnf. */
  readonly line: string;
}

export interface UserSettings {
  /** Changed on running servers with SET GLOBAL, in the order written (the last of a name wins). Also written to my.cnf, so a restart keeps them. */
  readonly live: readonly LiveSetting[];
  /** Take effect at the next start: a change rolls the cluster. Lines of other sections than the server's, and !include, land here too. */
  readonly restart: readonly WrittenOption[];
  /** Left out of my.cnf, with the reason, for an Event or a condition message. */
  readonly refused: readonly { readonly name: string; readonly reason: string }[];
}

/** Sections of an option file that mariadbd reads. */
const serverSections = new Set(['mysqld', 'mariadbd', 'server', 'mariadb', 'mysqld-10.11', 'mariadb-10.11', 'mariadbd-10.11']);

function normalizeName(raw: string): string {
  const name = raw.trim().toLowerCase().replaceAll('-', '_');
  return name.startsWith('loose_') ? name.slice('loose_'.length) : name;
}

/** Removes a trailing comment and surrounding quotes, as the option file reader does. */
function unquote(raw: string): string {
  const value = raw.trim();
  const quoted = /^(['"])(.*)\1$/.exec(value);
  if (quoted?.[2] !== undefined) return quoted[2];
  const hash = value.indexOf('#');
  return (hash === -1 ? value : value.slice(0, hash)).trim();
}

const sizeMultipliers: Readonly<Record<string, number>> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** The value for SET GLOBAL, or undefined when it is not a valid value of its kind. */
function convert(kind: ValueKind, value: string | undefined): number | string | undefined {
  switch (kind.kind) {
    case 'boolean': {
      // A bare option name turns a boolean on.
      const v = (value ?? 'ON').toUpperCase();
      if (['ON', '1', 'TRUE'].includes(v)) return 'ON';
      if (['OFF', '0', 'FALSE'].includes(v)) return 'OFF';
      return undefined;
    }
    case 'size': {
      const match = /^([0-9]{1,16})([kmgt]?)$/i.exec(value ?? '');
      if (match?.[1] === undefined || match[2] === undefined) return undefined;
      const bytes = Number(match[1]) * (sizeMultipliers[match[2].toLowerCase()] ?? Number.NaN);
      return Number.isSafeInteger(bytes) ? bytes : undefined;
    }
    case 'integer':
      return value !== undefined && /^[0-9]{1,15}$/.test(value) ? Number(value) : undefined;
    case 'decimal':
      return value !== undefined && /^[0-9]{1,12}(\.[0-9]{1,6})?$/.test(value) ? Number(value) : undefined;
    case 'string':
      return value !== undefined && kind.pattern.test(value) ? value : undefined;
  }
}

/** "skip_x", "disable_x" and "enable_x" of a boolean x, as option files allow. */
function booleanPrefix(name: string): { name: string; value: 'ON' | 'OFF' } | undefined {
  for (const [prefix, value] of [
    ['skip_', 'OFF'],
    ['disable_', 'OFF'],
    ['enable_', 'ON'],
  ] as const) {
    if (!name.startsWith(prefix)) continue;
    const base = name.slice(prefix.length);
    if (dynamicVariables.get(base)?.kind === 'boolean') return { name: base, value };
  }
  return undefined;
}

function isOperatorOwned(name: string): boolean {
  const base = booleanPrefix(name)?.name ?? name.replace(/^(skip|disable|enable)_/, '');
  return [name, base].some((n) => operatorOwnedOptions.has(n) || operatorOwnedPrefixes.some((p) => n.startsWith(p)));
}

/**
 * Sorts the options of spec.myCnf. Lines before any [section] belong to the
 * server's section (the description of spec.myCnf says so).
 */
export function splitUserSettings(myCnf: string): UserSettings {
  const live: LiveSetting[] = [];
  const restart: WrittenOption[] = [];
  const refused: { name: string; reason: string }[] = [];
  let inServerSection = true;
  let section: string | undefined;
  for (const rawLine of myCnf.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header?.[1] !== undefined) {
      section = header[1].trim().toLowerCase();
      inServerSection = serverSections.has(section);
      restart.push({ name: `[${section}]`, line: `[${section}]` });
      continue;
    }
    if (line.startsWith('!')) {
      restart.push({ name: line.split(/\s/)[0] ?? line, line });
      continue;
    }
    const equals = line.indexOf('=');
    const name = normalizeName(equals === -1 ? line : line.slice(0, equals));
    const value = equals === -1 ? undefined : unquote(line.slice(equals + 1));
    if (!inServerSection) {
      restart.push({ name, line });
      continue;
    }
    if (!/^[a-z0-9_]+$/.test(name)) {
      refused.push({ name, reason: 'not an option name' });
      continue;
    }
    if (isOperatorOwned(name)) {
      refused.push({ name, reason: 'set by the operator: replication and failover depend on it' });
      continue;
    }
    const prefixed = booleanPrefix(name);
    const kind = dynamicVariables.get(prefixed?.name ?? name);
    if (kind === undefined) {
      restart.push({ name, line });
      continue;
    }
    const converted = prefixed === undefined ? convert(kind, value) : value === undefined ? prefixed.value : undefined;
    if (converted === undefined) {
      // Written as is, mariadbd might refuse to start; left out and reported instead.
      refused.push({ name, reason: `${JSON.stringify(value ?? '')} is not a valid value (${kind.kind})` });
      continue;
    }
    live.push({ name: prefixed?.name ?? name, value: converted });
  }
  return { live, restart, refused };
}
