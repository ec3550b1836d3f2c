// MariaDB global transaction ids, as pure values: parse, format, compare, and
// find the transactions one server has that another lacks.
//
// A MariaDB GTID is `domain-server-seq`: replication domain (uint32), server_id
// of the server that first committed the transaction (uint32), and a sequence
// number (uint64, hence bigint) counted per domain. A *position*
// (@@gtid_current_pos, @@gtid_slave_pos, @@gtid_binlog_pos, Gtid_IO_Pos) holds
// the last GTID of each domain; a *binlog state* (@@gtid_binlog_state) holds the
// last GTID of each (domain, server_id) pair the binary log ever saw.
//
// What this file can decide rests on three settings the operator enforces on
// every instance: gtid_strict_mode=ON (sequence numbers only grow within a
// domain, so one server's history in a domain is a single increasing chain),
// unique server_ids (a GTID names exactly one transaction), and
// log_slave_updates=ON (a replica's binlog state records what it replicated, so
// a promoted replica knows the server_ids of former primaries).

/** One transaction id. `seq` is a bigint because MariaDB counts it in 64 bits. */
export interface Gtid {
  readonly domain: number;
  readonly server: number;
  readonly seq: bigint;
}

/**
 * A GTID position: at most one entry per domain, sorted by domain. The empty
 * array is the empty position (a server that has committed or replicated
 * nothing; MariaDB prints it as '').
 */
export type GtidPosition = readonly Gtid[];

/**
 * A binlog state (@@gtid_binlog_state): at most one entry per (domain, server),
 * the highest seq of that server in that domain, sorted by domain then server.
 * Every GtidPosition is also a valid GtidState.
 */
export type GtidState = readonly Gtid[];

/** Thrown when text is not a GTID list; the message quotes the offending part. */
export class GtidParseError extends Error {
  override readonly name = 'GtidParseError';
}

const maxUint32 = 4294967295;
const maxUint64 = 18446744073709551615n;
const entryPattern = /^(\d+)-(\d+)-(\d+)$/;

function parseEntry(text: string, whole: string): Gtid {
  const match = entryPattern.exec(text);
  if (match === null) {
    throw new GtidParseError(`GTID ${JSON.stringify(text)} in ${JSON.stringify(whole)} is not of the form domain-server-seq`);
  }
  const [, domainText = '', serverText = '', seqText = ''] = match;
  const domain = Number(domainText);
  const server = Number(serverText);
  const seq = BigInt(seqText);
  if (domain > maxUint32) throw new GtidParseError(`GTID ${text}: domain ${domainText} exceeds ${maxUint32}`);
  if (server > maxUint32) throw new GtidParseError(`GTID ${text}: server_id ${serverText} exceeds ${maxUint32}`);
  if (seq > maxUint64) throw new GtidParseError(`GTID ${text}: sequence number ${seqText} exceeds ${maxUint64}`);
  return { domain, server, seq };
}

function parseList(text: string): Gtid[] {
  // SHOW SLAVE STATUS wraps long lists after the commas; tolerate any whitespace.
  const trimmed = text.trim();
  if (trimmed === '') return [];
  return trimmed.split(',').map((part) => parseEntry(part.trim(), text));
}

const byDomainThenServer = (a: Gtid, b: Gtid): number => a.domain - b.domain || a.server - b.server;

/**
 * Parses a position such as '0-1-100,1-2-7' (whitespace around entries is
 * ignored; '' is the empty position). Throws GtidParseError on malformed
 * entries, out-of-range numbers, or two entries for one domain.
 */
export function parseGtidPosition(text: string): GtidPosition {
  const entries = parseList(text).sort(byDomainThenServer);
  for (let i = 1; i < entries.length; i++) {
    const previous = entries[i - 1];
    const current = entries[i];
    if (previous !== undefined && current !== undefined && previous.domain === current.domain) {
      throw new GtidParseError(`GTID position ${JSON.stringify(text)} has two entries for domain ${current.domain}`);
    }
  }
  return entries;
}

/**
 * Parses a binlog state such as '0-1-100,0-2-150' (one entry per domain and
 * server). Throws GtidParseError on malformed entries or a repeated pair.
 */
export function parseGtidState(text: string): GtidState {
  const entries = parseList(text).sort(byDomainThenServer);
  for (let i = 1; i < entries.length; i++) {
    const previous = entries[i - 1];
    const current = entries[i];
    if (previous !== undefined && current !== undefined && byDomainThenServer(previous, current) === 0) {
      throw new GtidParseError(
        `GTID state ${JSON.stringify(text)} has two entries for domain ${current.domain}, server ${current.server}`,
      );
    }
  }
  return entries;
}

/** 'domain-server-seq'. */
export function formatGtid(gtid: Gtid): string {
  return `${gtid.domain}-${gtid.server}-${gtid.seq}`;
}

/** The MariaDB text of a position or state: entries by domain, comma-separated, '' when empty. */
export function formatGtidList(list: readonly Gtid[]): string {
  return [...list].sort(byDomainThenServer).map(formatGtid).join(',');
}

/**
 * How position `a` relates to position `b`, domain by domain (a domain missing
 * from one side counts as seq 0 there):
 * - 'equal': every domain has the same seq and, where both have an entry, the same server;
 * - 'ahead': `a` is at least as far as `b` in every domain and further in one;
 * - 'behind': the reverse;
 * - 'diverged': `a` is further in one domain and `b` in another, or both have
 *   the same seq in a domain from different servers (two different
 *   transactions under one number: neither can replicate from the other).
 *
 * Limit: from positions alone, 'ahead' means "further along by sequence
 * numbers". When the two tips of a domain come from different servers (after a
 * failover), the shorter one may still be absent from the longer one's history
 * (an old primary's unreplicated write 0-1-101 against the new primary's
 * 0-2-150). Use errantTransactions with the binlog state for that question.
 */
export function compareGtidPositions(a: GtidPosition, b: GtidPosition): 'equal' | 'ahead' | 'behind' | 'diverged' {
  let ahead = false;
  let behind = false;
  for (const domain of domainsOf(a, b)) {
    const left = entryOf(a, domain);
    const right = entryOf(b, domain);
    const leftSeq = left?.seq ?? 0n;
    const rightSeq = right?.seq ?? 0n;
    if (leftSeq > rightSeq) ahead = true;
    else if (leftSeq < rightSeq) behind = true;
    else if (left !== undefined && right !== undefined && left.server !== right.server) return 'diverged';
  }
  if (ahead && behind) return 'diverged';
  if (ahead) return 'ahead';
  if (behind) return 'behind';
  return 'equal';
}

/**
 * Whether position `a` has everything position `b` has, by the rules (and with
 * the limit) of compareGtidPositions: 'equal' or 'ahead'.
 */
export function containsGtidPosition(a: GtidPosition, b: GtidPosition): boolean {
  const relation = compareGtidPositions(a, b);
  return relation === 'equal' || relation === 'ahead';
}

/** Per domain, the entry with the higher seq (the first list wins a tie): the later of two positions. */
export function laterGtidPosition(a: GtidPosition, b: GtidPosition): GtidPosition {
  const merged: Gtid[] = [];
  for (const domain of domainsOf(a, b)) {
    const left = entryOf(a, domain);
    const right = entryOf(b, domain);
    const later = left === undefined ? right : right === undefined || left.seq >= right.seq ? left : right;
    if (later !== undefined) merged.push(later);
  }
  return merged;
}

/** The union of GTID lists as a binlog state: per (domain, server), the highest seq. */
export function mergeGtidStates(...lists: readonly (readonly Gtid[])[]): GtidState {
  const highest = new Map<string, Gtid>();
  for (const gtid of lists.flat()) {
    const key = `${gtid.domain}-${gtid.server}`;
    const known = highest.get(key);
    if (known === undefined || gtid.seq > known.seq) highest.set(key, gtid);
  }
  return [...highest.values()].sort(byDomainThenServer);
}

/** Whether a list holds no transaction at all. */
export function isEmptyGtidList(list: readonly Gtid[]): boolean {
  return list.length === 0;
}

/**
 * The transactions of `replica` that `primary` does not have: for every entry
 * (domain d, server s, seq n) of the replica's binlog state (merge in its
 * gtid_current_pos, which may hold replicated tips that log_slave_updates=OFF
 * kept out of the binlog), it is errant unless the primary's state has (d, s)
 * with a seq >= n. Under strict mode one server's transactions in a domain form
 * one increasing chain, so "the primary has s's chain up to m >= n" means the
 * primary has (d, s, n); comparing the last entry of each pair is enough.
 *
 * Exact when both states are complete binlog states. The limits:
 * - Pass gtid_binlog_state, not only gtid_current_pos, for the primary: a
 *   position keeps one server per domain, so a former primary's server_id
 *   would be missing and its (contained) transactions would look errant.
 * - An instance seeded from a backup must inherit its source's
 *   gtid_binlog_state (SET GLOBAL gtid_binlog_state after RESET MASTER), else
 *   it forgets the server_ids of earlier primaries; once promoted, everything
 *   those servers wrote would look errant on the others.
 * - Transactions written with sql_log_bin=0 leave no GTID and are invisible
 *   here; they surface as replication errors instead.
 * Returns [] when nothing is errant; the result is sorted like a state.
 */
export function errantTransactions(replica: GtidState, primary: GtidState): Gtid[] {
  const primaryState = mergeGtidStates(primary);
  return mergeGtidStates(replica).filter((gtid) => {
    const known = primaryState.find((p) => p.domain === gtid.domain && p.server === gtid.server);
    return known === undefined || known.seq < gtid.seq;
  });
}

/**
 * The gtid_binlog_state to give an instance seeded from a copy (mariadb-backup)
 * of `source`, whose data stops at `copyPosition` (the GTID position the backup
 * recorded). Without it the new instance's binlog state would start empty and
 * forget the server_ids of earlier primaries (see errantTransactions). Per
 * domain d of the copy, at (d, s, n): (d, s, n) itself, and each other server's
 * entry of the source's state with a seq below n (under strict mode those came
 * before the copy point). Entries at or above n from other servers, and domains
 * the copy does not have, were written after the copy: leaving them out keeps
 * the state from claiming transactions the data lacks. To apply on the new
 * instance before it replicates: RESET MASTER, SET GLOBAL gtid_binlog_state,
 * SET GLOBAL gtid_slave_pos to `copyPosition`.
 */
export function seededBinlogState(sourceState: GtidState, copyPosition: GtidPosition): GtidState {
  const kept = sourceState.filter((gtid) => {
    const tip = copyPosition.find((c) => c.domain === gtid.domain);
    return tip !== undefined && gtid.server !== tip.server && gtid.seq < tip.seq;
  });
  return mergeGtidStates(kept, copyPosition);
}

/** The outcome of choosing the most advanced of several candidates. */
export type MostAdvanced<T> =
  /** No candidates were given. */
  | { readonly kind: 'none' }
  /** `best` contains every other candidate's position; `tied` lists those equal to it, `best` included, in tie-break order. */
  | { readonly kind: 'found'; readonly best: T; readonly tied: readonly T[] }
  /** No candidate contains all the others: `first` and `second` are two whose positions have diverged. */
  | { readonly kind: 'diverged'; readonly first: T; readonly second: T };

/**
 * The candidate whose position contains every other candidate's (by
 * compareGtidPositions). Among equal positions, `tieBreak` orders them (a
 * negative result puts its first argument first); it must be a total order so
 * that the choice never depends on the order of `candidates`.
 */
export function mostAdvanced<T extends object>(
  candidates: readonly T[],
  positionOf: (candidate: T) => GtidPosition,
  tieBreak: (a: T, b: T) => number,
): MostAdvanced<T> {
  const ordered = [...candidates].sort(tieBreak);
  const [first, ...rest] = ordered;
  if (first === undefined) return { kind: 'none' };
  let best = first;
  for (const candidate of rest) {
    const relation = compareGtidPositions(positionOf(candidate), positionOf(best));
    if (relation === 'ahead') best = candidate;
    else if (relation === 'diverged') return { kind: 'diverged', first: best, second: candidate };
  }
  // No second pass is needed: containment is transitive (per domain, seq
  // order is; and equal seqs with equal servers chain), so `best` contains
  // every candidate it replaced and all those they contained.
  const tied = ordered.filter((c) => compareGtidPositions(positionOf(c), positionOf(best)) === 'equal');
  return { kind: 'found', best: tied[0] ?? best, tied };
}

function domainsOf(a: readonly Gtid[], b: readonly Gtid[]): number[] {
  return [...new Set([...a, ...b].map((g) => g.domain))].sort((x, y) => x - y);
}

function entryOf(position: GtidPosition, domain: number): Gtid | undefined {
  return position.find((g) => g.domain === domain);
}
