// What a backup run leaves in its target, and how the operator reads it back.
//
// Layout (written by the backup Job, test/env/images/mariadb/flightdeck-backup.sh):
//   <prefix>/<namespace>/<backup name>/<run id>/data.sql[.gz|.zst][.enc]
//   <prefix>/<namespace>/<backup name>/<run id>/manifest.json   ← written last
// A run folder without manifest.json is an interrupted run, never a backup.
//
// A manifest comes from a store that others can write to, so it is untrusted
// input: parseManifest checks every field (types, bounds, names, that the data
// file's name follows from compression and encryption) before the operator
// lists it as a backup or a restore uses it.
import { compressions, type Compression } from '../api/backup-target.ts';
import { databaseName, isValid } from '../mysql/identifiers.ts';

/** The manifest format this operator writes and reads. */
export const manifestFormatVersion = 1;
export const manifestFileName = 'manifest.json';
/** Larger manifests are refused unread: a million tables' facts fit well below. */
export const maxManifestBytes = 64 * 1024 * 1024;

// ---------------------------------------------------------------- run ids

const runIdPattern = /^([0-9]{4})([0-9]{2})([0-9]{2})T([0-9]{2})([0-9]{2})([0-9]{2})Z$/;

/** A run's id from the UTC time it was due: 2026-12-02T03:00:00Z → 20261202T030000Z (milliseconds dropped). */
export function formatRunId(due: Date): string {
  if (Number.isNaN(due.getTime())) throw new RangeError('a run id needs a valid time');
  return due.toISOString().replace(/\.[0-9]{3}Z$/, 'Z').replace(/[-:]/g, '');
}

/** The time a run id stands for; throws a RangeError naming the text when it is not a run id. */
export function parseRunId(id: string): Date {
  const match = runIdPattern.exec(id);
  if (match === null) throw new RangeError(`${JSON.stringify(id)} is not a run id (YYYYMMDDTHHMMSSZ)`);
  const [, y, mo, d, h, mi, s] = match.map(Number) as [number, number, number, number, number, number, number];
  const time = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  // Date.UTC rolls 31 February into March; a real id names a real time.
  if (formatRunId(time) !== id) throw new RangeError(`${JSON.stringify(id)} is not a run id: no such time`);
  return time;
}

export function isRunId(id: string): boolean {
  try {
    parseRunId(id);
    return true;
  } catch {
    // Not an id: the answer is false, nothing else to report.
    return false;
  }
}

// ---------------------------------------------------------------- paths

/** A namespace or MySQLBackup name as a path segment: what Kubernetes allows for them, which holds no "/" and is never "." or "..". */
function checkSegment(what: string, part: string): string {
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(part) || part.length > 253) throw new RangeError(`${what} ${JSON.stringify(part)} cannot be a path segment`);
  return part;
}

/** A run's folder below the target's prefix or subPath: <namespace>/<backup name>/<run id> (status.backups[].path, MySQLRestore source.path). */
export function runFolder(namespace: string, name: string, id: string): string {
  parseRunId(id);
  return `${checkSegment('namespace', namespace)}/${checkSegment('backup name', name)}/${id}`;
}

/** A run's folder with the target's prefix (or a PVC's subPath) in front, when there is one. */
export function runPath(prefix: string | undefined, namespace: string, name: string, id: string): string {
  return joinPrefix(prefix, runFolder(namespace, name, id));
}

/** The folder that holds every run of one MySQLBackup: list it to find its backups. */
export function backupFolder(prefix: string | undefined, namespace: string, name: string): string {
  return joinPrefix(prefix, `${checkSegment('namespace', namespace)}/${checkSegment('backup name', name)}`);
}

function joinPrefix(prefix: string | undefined, folder: string): string {
  const trimmed = (prefix ?? '').replace(/^\/+|\/+$/g, '');
  if (trimmed.split('/').some((segment) => segment === '.' || segment === '..')) throw new RangeError(`prefix ${JSON.stringify(prefix)} may not hold "." or ".." segments`);
  return trimmed === '' ? folder : `${trimmed}/${folder}`;
}

/** Reads <namespace>/<backup name>/<run id> back; undefined for anything else (a stray object in the store). */
export function parseRunFolder(folder: string): { namespace: string; name: string; id: string } | undefined {
  const parts = folder.replace(/\/+$/, '').split('/');
  if (parts.length !== 3) return undefined;
  const [namespace = '', name = '', id = ''] = parts;
  try {
    runFolder(namespace, name, id);
  } catch {
    // Not a run folder: the caller skips it.
    return undefined;
  }
  return { namespace, name, id };
}

/** The data object's name: data.sql, then .gz or .zst, then .enc when encrypted. */
export function dataFileName(compression: Compression, encrypted: boolean): string {
  const extension = { gzip: '.gz', zstd: '.zst', none: '' }[compression];
  return `data.sql${extension}${encrypted ? '.enc' : ''}`;
}

// ---------------------------------------------------------------- the manifest

export interface TableFacts {
  readonly database: string;
  readonly table: string;
  readonly rows: number;
  /** CHECKSUM TABLE's value as the server printed it ("NULL" for a table it cannot checksum). */
  readonly checksum: string;
}

export interface BackupManifest {
  readonly formatVersion: typeof manifestFormatVersion;
  readonly id: string;
  readonly databases: readonly string[];
  readonly compression: Compression;
  readonly encrypted: boolean;
  readonly dataFile: string;
  readonly sizeBytes: number;
  /** SHA-256 of the stored data object, hex. */
  readonly sha256: string;
  /** gtid_binlog_pos at the dump's consistent point; "" without a binary log. */
  readonly gtidPosition: string;
  /** file:position of the same point; "" or ":" without a binary log. */
  readonly binlogPosition: string;
  readonly startTime: string;
  readonly completionTime: string;
  /** Whether the table facts were read at the dump's own consistent point (the same binary log position). */
  readonly tablesFromDumpSnapshot: boolean;
  readonly tables: readonly TableFacts[];
}

export class InvalidManifestError extends Error {
  constructor(where: string, problem: string) {
    super(`${where}: ${problem}`);
    this.name = 'InvalidManifestError';
  }
}

type Json = Record<string, unknown>;

/** A value from the manifest, shortened, for an error message. */
function shown(value: unknown): string {
  return value === undefined ? 'missing' : JSON.stringify(value).slice(0, 100);
}

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
export const timePattern = /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?Z$/;
export const gtidPattern = /^([0-9]+-[0-9]+-[0-9]+(,\s*[0-9]+-[0-9]+-[0-9]+)*)?$/;
const binlogPattern = /^([A-Za-z0-9._-]{1,255}:[0-9]{1,20}|:?)$/;
const checksumPattern = /^([0-9]{1,20}|NULL)$/;
// Anything a server may hold as a table name, but no control characters and at most 64 characters.
const tableNamePattern = /^[^\p{Cc}]{1,64}$/u;

/** A manifest's text as a JSON object, refusing one too large to be a manifest, or not JSON, naming `where`. */
export function manifestObject(text: string, where: string): Record<string, unknown> {
  const fail = (problem: string): never => {
    throw new InvalidManifestError(`${manifestFileName} of ${where}`, problem);
  };
  if (Buffer.byteLength(text, 'utf8') > maxManifestBytes) fail(`larger than ${maxManifestBytes} bytes`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return fail(`not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!isObject(raw)) return fail('not a JSON object');
  return raw;
}

/**
 * Parses and checks manifest.json. `where` names it in errors (for example
 * the run's path); `expectedId` is the id its folder says it has: a manifest
 * copied into another run's folder is refused.
 */
export function parseManifest(text: string, where: string, expectedId?: string): BackupManifest {
  const fail = (problem: string): never => {
    throw new InvalidManifestError(`${manifestFileName} of ${where}`, problem);
  };
  const m = manifestObject(text, where);

  const text_ = (field: string, pattern: RegExp, max = 4096): string => {
    const value = m[field];
    if (typeof value !== 'string' || value.length > max || !pattern.test(value)) return fail(`${field} ${shown(value)} is not valid`);
    return value;
  };
  const count = (value: unknown, field: string): number => {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) return fail(`${field} must be a whole number ≥ 0, not ${JSON.stringify(value)}`);
    return value;
  };
  const flag = (field: string): boolean => {
    const value = m[field];
    if (typeof value !== 'boolean') return fail(`${field} must be true or false, not ${JSON.stringify(value)}`);
    return value;
  };

  if (m.formatVersion !== manifestFormatVersion) fail(`format ${JSON.stringify(m.formatVersion)} is not ${manifestFormatVersion}; a newer operator may have written it`);
  const id = text_('id', runIdPattern, 16);
  if (!isRunId(id)) fail(`id ${id} names no real time`);
  if (expectedId !== undefined && id !== expectedId) fail(`id ${id} is not the run's own id ${expectedId}`);

  if (!Array.isArray(m.databases) || m.databases.length === 0 || m.databases.length > 4096) fail('databases must list 1 to 4096 names');
  const databases = (m.databases as unknown[]).map((name) => {
    if (typeof name !== 'string' || !isValid(databaseName, name)) return fail(`databases holds ${shown(name)}, not a ${databaseName.what}`);
    return name;
  });
  if (new Set(databases).size !== databases.length) fail('databases names one database twice');

  const compression = m.compression;
  if (typeof compression !== 'string' || !(compressions as readonly string[]).includes(compression)) return fail(`compression ${JSON.stringify(compression)} is not one of ${compressions.join(', ')}`);
  const encrypted = flag('encrypted');
  const dataFile = text_('dataFile', /^data\.sql/, 64);
  const expectedFile = dataFileName(compression as Compression, encrypted);
  if (dataFile !== expectedFile) fail(`dataFile ${dataFile} should be ${expectedFile} for compression ${compression}${encrypted ? ', encrypted' : ''}`);

  const sizeBytes = count(m.sizeBytes, 'sizeBytes');
  const sha256 = text_('sha256', /^[0-9a-f]{64}$/, 64);
  const gtidPosition = text_('gtidPosition', gtidPattern);
  const binlogPosition = text_('binlogPosition', binlogPattern, 300);
  const startTime = text_('startTime', timePattern, 40);
  const completionTime = text_('completionTime', timePattern, 40);
  if (Date.parse(completionTime) < Date.parse(startTime)) fail(`completionTime ${completionTime} is before startTime ${startTime}`);
  const tablesFromDumpSnapshot = flag('tablesFromDumpSnapshot');

  if (!Array.isArray(m.tables)) return fail('tables must be a list');
  const known = new Set(databases);
  const seen = new Set<string>();
  const tables = (m.tables as unknown[]).map((entry, index): TableFacts => {
    if (!isObject(entry)) return fail(`tables[${index}] is not an object`);
    const { database, table, rows, checksum } = entry;
    if (typeof database !== 'string' || !known.has(database)) return fail(`tables[${index}].database ${shown(database)} is not one of the backup's databases`);
    if (typeof table !== 'string' || !tableNamePattern.test(table)) return fail(`tables[${index}].table is not a table name`);
    if (typeof checksum !== 'string' || !checksumPattern.test(checksum)) return fail(`tables[${index}].checksum ${shown(checksum)} is not a CHECKSUM TABLE value`);
    const key = JSON.stringify([database, table]);
    if (seen.has(key)) fail(`tables lists ${database}.${table} twice`);
    seen.add(key);
    return { database, table, rows: count(rows, `tables[${index}].rows`), checksum };
  });

  return {
    formatVersion: manifestFormatVersion,
    id,
    databases,
    compression: compression as Compression,
    encrypted,
    dataFile,
    sizeBytes,
    sha256,
    gtidPosition,
    binlogPosition,
    startTime,
    completionTime,
    tablesFromDumpSnapshot,
    tables,
  };
}

// ---------------------------------------------------------------- files (VolumeBackup)
//
// A VolumeBackup's run folder holds files.tar[.gz|.zst][.enc] (a POSIX tar of
// the volume's folder: numeric owners, modes, modification times, symbolic
// links; no device files, sockets or pipes) and then manifest.json, last.

/** The manifest kind of a files backup; database dumps have none (or "logical"). */
export const filesManifestKind = 'files';

/** The archive's name: files.tar, then .gz or .zst, then .enc when encrypted. */
export function filesDataFileName(compression: Compression, encrypted: boolean): string {
  const extension = { gzip: '.gz', zstd: '.zst', none: '' }[compression];
  return `files.tar${extension}${encrypted ? '.enc' : ''}`;
}

export interface FilesManifest {
  readonly formatVersion: typeof manifestFormatVersion;
  readonly kind: typeof filesManifestKind;
  readonly id: string;
  readonly compression: Compression;
  readonly encrypted: boolean;
  readonly dataFile: string;
  /** Size and SHA-256 (hex) of the stored archive, after compression and encryption. */
  readonly sizeBytes: number;
  readonly sha256: string;
  /** Files, directories and symbolic links in the archive. */
  readonly fileCount: number;
  /** Bytes of its regular files, uncompressed. */
  readonly contentBytes: number;
  /** SHA-256 over the sorted description of every entry (flightdeck-backup's describe_tree), which a restore computes again. */
  readonly contentSha256: string;
  readonly startTime: string;
  readonly completionTime: string;
}

/** Parses and checks a files backup's manifest.json, as parseManifest does a dump's. */
export function parseFilesManifest(text: string, where: string, expectedId?: string): FilesManifest {
  const fail = (problem: string): never => {
    throw new InvalidManifestError(`${manifestFileName} of ${where}`, problem);
  };
  const m = manifestObject(text, where);
  const text_ = (field: string, pattern: RegExp, max: number): string => {
    const value = m[field];
    if (typeof value !== 'string' || value.length > max || !pattern.test(value)) return fail(`${field} ${shown(value)} is not valid`);
    return value;
  };
  const count = (field: string): number => {
    const value = m[field];
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) return fail(`${field} must be a whole number ≥ 0, not ${JSON.stringify(value)}`);
    return value;
  };
  if (m.formatVersion !== manifestFormatVersion) fail(`format ${JSON.stringify(m.formatVersion)} is not ${manifestFormatVersion}; a newer operator may have written it`);
  if (m.kind !== filesManifestKind) fail(`kind ${shown(m.kind)} is not ${filesManifestKind}: not a files backup`);
  const id = text_('id', runIdPattern, 16);
  if (!isRunId(id)) fail(`id ${id} names no real time`);
  if (expectedId !== undefined && id !== expectedId) fail(`id ${id} is not the run's own id ${expectedId}`);
  const compression = m.compression;
  if (typeof compression !== 'string' || !(compressions as readonly string[]).includes(compression)) return fail(`compression ${JSON.stringify(compression)} is not one of ${compressions.join(', ')}`);
  const encrypted = m.encrypted;
  if (typeof encrypted !== 'boolean') return fail(`encrypted must be true or false, not ${JSON.stringify(encrypted)}`);
  const dataFile = text_('dataFile', /^files\.tar/, 64);
  const expectedFile = filesDataFileName(compression as Compression, encrypted);
  if (dataFile !== expectedFile) fail(`dataFile ${dataFile} should be ${expectedFile} for compression ${compression}${encrypted ? ', encrypted' : ''}`);
  const sizeBytes = count('sizeBytes');
  const sha256 = text_('sha256', /^[0-9a-f]{64}$/, 64);
  const fileCount = count('fileCount');
  const contentBytes = count('contentBytes');
  const contentSha256 = text_('contentSha256', /^[0-9a-f]{64}$/, 64);
  const startTime = text_('startTime', timePattern, 40);
  const completionTime = text_('completionTime', timePattern, 40);
  if (Date.parse(completionTime) < Date.parse(startTime)) fail(`completionTime ${completionTime} is before startTime ${startTime}`);
  return {
    formatVersion: manifestFormatVersion,
    kind: filesManifestKind,
    id,
    compression: compression as Compression,
    encrypted,
    dataFile,
    sizeBytes,
    sha256,
    fileCount,
    contentBytes,
    contentSha256,
    startTime,
    completionTime,
  };
}
