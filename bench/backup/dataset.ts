// A WordPress-like database of a chosen size, generated fast for the backup
// benchmark: rows are written as tab-separated files and loaded with
// server-side LOAD DATA (the server runs on this machine), which is an order
// of magnitude faster than INSERTs from a client. The text is made of a pool
// of pseudo-random sentences, deterministic from a seed, so it compresses as
// prose does (about 3:1 with gzip), not as one repeated string would.
//
// Three tables of the shapes a site holds:
//   wp_posts     few large rows (posts, pages, revisions: a few KB of text each)  ~60 %
//   wp_postmeta  many medium rows (keys and serialized values)                    ~25 %
//   visits       very many small rows (an InnoDB log table of numbers)            ~15 %
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type * as mariadb from 'mariadb';
import { databaseName, quoteIdentifier, tableName } from '../../src/mysql/identifiers.ts';

export interface DatasetTable {
  readonly name: string;
  readonly rows: number;
  /** Bytes of the generated tab-separated rows: close to what a dump holds. */
  readonly textBytes: number;
}

export interface Dataset {
  readonly database: string;
  readonly tables: readonly DatasetTable[];
  readonly textBytes: number;
  /** data_length + index_length of the tables as InnoDB reports them after loading. */
  readonly innodbBytes: number;
  readonly generateSeconds: number;
  readonly loadSeconds: number;
}

/** mulberry32: small, fast, and the same numbers on every machine for a seed. */
function randomSource(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const syllables = ['ka', 'lo', 'mi', 'ne', 'ru', 'sa', 'ti', 'vo', 'ber', 'dan', 'fel', 'gor', 'hin', 'jas', 'kel', 'mor', 'nis', 'pra', 'str', 'que', 'é', 'ü', 'ing', 'tion', 'al'];

class TextSource {
  readonly #random: () => number;
  readonly #words: string[] = [];
  readonly #sentences: string[] = [];

  constructor(seed: number) {
    this.#random = randomSource(seed);
    for (let i = 0; i < 5000; i++) {
      let word = '';
      const length = 1 + Math.floor(this.#random() * 4);
      for (let s = 0; s < length; s++) word += this.pick(syllables);
      this.#words.push(word);
    }
    // 20 000 sentences of ~90 bytes: a pool far larger than gzip's 32 KB window.
    for (let i = 0; i < 20_000; i++) {
      const count = 6 + Math.floor(this.#random() * 14);
      const words: string[] = [];
      for (let w = 0; w < count; w++) words.push(this.pick(this.#words));
      const first = words[0] ?? 'x';
      words[0] = first.charAt(0).toUpperCase() + first.slice(1);
      if (this.#random() < 0.1) words.push(`"${this.pick(this.#words)}"`);
      if (this.#random() < 0.1) words.push(`it's`);
      this.#sentences.push(`${words.join(' ')}.`);
    }
  }

  random(): number {
    return this.#random();
  }

  int(below: number): number {
    return Math.floor(this.#random() * below);
  }

  pick<T>(list: readonly T[]): T {
    const item = list[Math.floor(this.#random() * list.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }

  word(): string {
    return this.pick(this.#words);
  }

  /** About `bytes` of paragraphs, separated by escaped newlines (LOAD DATA turns `\n` back into a newline). */
  prose(bytes: number): string {
    const parts: string[] = [];
    let length = 0;
    while (length < bytes) {
      const sentence = this.pick(this.#sentences);
      parts.push(sentence);
      length += sentence.length + 1;
      if (this.#random() < 0.15) parts.push('\\n\\n');
    }
    return parts.join(' ');
  }
}

/** Appends text to a file in large writes. */
class TsvWriter {
  readonly #fd: number;
  #buffer: string[] = [];
  #pending = 0;
  bytes = 0;
  rows = 0;

  readonly path: string;

  constructor(path: string) {
    this.path = path;
    this.#fd = openSync(path, 'w');
  }

  row(fields: readonly (string | number)[]): void {
    const line = `${fields.join('\t')}\n`;
    this.#buffer.push(line);
    this.#pending += line.length;
    this.bytes += Buffer.byteLength(line);
    this.rows++;
    if (this.#pending > 8 * 1024 * 1024) this.flush();
  }

  flush(): void {
    writeSync(this.#fd, this.#buffer.join(''));
    this.#buffer = [];
    this.#pending = 0;
  }

  close(): void {
    this.flush();
    closeSync(this.#fd);
  }
}

const pad = (n: number): string => String(n).padStart(2, '0');
function datetime(epochSeconds: number): string {
  const d = new Date(epochSeconds * 1000);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

const schema = (db: string): Record<string, string> => ({
  wp_posts: `CREATE TABLE ${db}.wp_posts (
    ID BIGINT UNSIGNED NOT NULL AUTO_INCREMENT, post_author BIGINT UNSIGNED NOT NULL DEFAULT 0,
    post_date DATETIME NOT NULL, post_date_gmt DATETIME NOT NULL, post_content LONGTEXT NOT NULL,
    post_title TEXT NOT NULL, post_excerpt TEXT NOT NULL, post_status VARCHAR(20) NOT NULL DEFAULT 'publish',
    comment_status VARCHAR(20) NOT NULL DEFAULT 'open', post_name VARCHAR(200) NOT NULL DEFAULT '',
    post_modified DATETIME NOT NULL, post_parent BIGINT UNSIGNED NOT NULL DEFAULT 0, guid VARCHAR(255) NOT NULL DEFAULT '',
    menu_order INT NOT NULL DEFAULT 0, post_type VARCHAR(20) NOT NULL DEFAULT 'post', comment_count BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (ID), KEY post_name (post_name(191)), KEY type_status_date (post_type, post_status, post_date, ID),
    KEY post_parent (post_parent), KEY post_author (post_author)
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`,
  wp_postmeta: `CREATE TABLE ${db}.wp_postmeta (
    meta_id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT, post_id BIGINT UNSIGNED NOT NULL DEFAULT 0,
    meta_key VARCHAR(255) DEFAULT NULL, meta_value LONGTEXT,
    PRIMARY KEY (meta_id), KEY post_id (post_id), KEY meta_key (meta_key(191))
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`,
  visits: `CREATE TABLE ${db}.visits (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT, post_id BIGINT UNSIGNED NOT NULL, visited_at DATETIME NOT NULL,
    ip INT UNSIGNED NOT NULL, status SMALLINT UNSIGNED NOT NULL, bytes INT UNSIGNED NOT NULL,
    PRIMARY KEY (id), KEY post_time (post_id, visited_at)
  ) ENGINE=InnoDB`,
});

const metaKeys = ['_edit_lock', '_edit_last', '_thumbnail_id', '_wp_page_template', '_yoast_wpseo_metadesc', '_wp_attachment_metadata', '_wp_attached_file', 'views'];

/** Writes the three tables' rows as TSV files of about `bytes` together; returns the files by table. */
function writeRows(dir: string, bytes: number, seed: number): Map<string, TsvWriter> {
  const text = new TextSource(seed);
  const posts = new TsvWriter(join(dir, 'wp_posts.tsv'));
  const meta = new TsvWriter(join(dir, 'wp_postmeta.tsv'));
  const visits = new TsvWriter(join(dir, 'visits.tsv'));
  const start = Date.UTC(2015, 0, 1) / 1000;
  const types = ['post', 'post', 'post', 'page', 'revision', 'revision', 'attachment'];
  let postId = 0;
  let metaId = 0;
  while (posts.bytes < bytes * 0.6) {
    postId++;
    const date = start + postId * 3600 + text.int(3600);
    const type = text.pick(types);
    const title = Array.from({ length: 3 + text.int(6) }, () => text.word()).join(' ');
    posts.row([
      postId, 1 + text.int(50), datetime(date), datetime(date - 3600), text.prose(1000 + text.int(9000)), title,
      text.random() < 0.5 ? text.prose(150) : '', text.random() < 0.9 ? 'publish' : 'draft', 'open',
      `${title.replaceAll(' ', '-').toLowerCase()}-${postId}`, datetime(date + text.int(86400 * 30)), type === 'revision' ? Math.max(1, postId - 1) : 0,
      `https://site.example/?p=${postId}`, 0, type, text.int(40),
    ]);
    // About a quarter of the data: a few keys per post, some of them serialized arrays.
    while (meta.bytes < posts.bytes * (25 / 60)) {
      metaId++;
      const key = text.pick(metaKeys);
      const value =
        key === '_wp_attachment_metadata'
          ? `a:5:{s:5:"width";i:${text.int(4000)};s:6:"height";i:${text.int(3000)};s:4:"file";s:24:"2024/05/${text.word()}.jpg";s:5:"sizes";a:0:{}s:10:"image_meta";a:0:{}}`
          : key === '_yoast_wpseo_metadesc'
            ? text.prose(140)
            : key === '_edit_lock'
              ? `${1700000000 + text.int(1e8)}:1`
              : String(text.int(100000));
      meta.row([metaId, postId, key, value]);
    }
    while (visits.bytes < posts.bytes * (15 / 60)) {
      visits.row([visits.rows + 1, 1 + text.int(postId), datetime(date + text.int(86400 * 365)), text.int(4294967295), text.pick([200, 200, 200, 304, 404]), text.int(200000)]);
    }
  }
  const writers = new Map([['wp_posts', posts], ['wp_postmeta', meta], ['visits', visits]]);
  for (const writer of writers.values()) writer.close();
  return writers;
}

/**
 * Creates `database` (which must not exist) on the server behind `conn` with
 * about `bytes` of rows. `dir` must be readable by the server (same machine).
 * The load skips the binary log: the generated data is the starting point of
 * the benchmark, not a change replicas should see.
 */
export async function generateDataset(conn: mariadb.Connection, options: { dir: string; database: string; bytes: number; seed?: number }): Promise<Dataset> {
  const db = quoteIdentifier(databaseName, options.database);
  const generateStart = performance.now();
  const files = writeRows(options.dir, options.bytes, options.seed ?? 1);
  const generateSeconds = (performance.now() - generateStart) / 1000;

  const loadStart = performance.now();
  await conn.query('SET SESSION sql_log_bin = 0, unique_checks = 0, foreign_key_checks = 0');
  await conn.query(`CREATE DATABASE ${db} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  for (const statement of Object.values(schema(db))) await conn.query(statement);
  for (const [table, writer] of files) {
    // The path is ours (mkdtemp under the temp directory); checked, since LOAD DATA takes it as a literal only.
    if (!/^[\w/.-]+$/.test(writer.path)) throw new Error(`unexpected characters in the data file path ${writer.path}`);
    await conn.query(`LOAD DATA INFILE '${writer.path}' INTO TABLE ${db}.${quoteIdentifier(tableName, table)} CHARACTER SET utf8mb4`);
    rmSync(writer.path);
  }
  const loadSeconds = (performance.now() - loadStart) / 1000;
  const [size] = await conn.query<{ bytes: number | bigint | null }[]>(
    'SELECT SUM(DATA_LENGTH + INDEX_LENGTH) AS bytes FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?',
    [options.database],
  );
  const tables = [...files].map(([name, writer]) => ({ name, rows: writer.rows, textBytes: writer.bytes }));
  return {
    database: options.database,
    tables,
    textBytes: tables.reduce((sum, t) => sum + t.textBytes, 0),
    innodbBytes: Number(size?.bytes ?? 0),
    generateSeconds,
    loadSeconds,
  };
}
