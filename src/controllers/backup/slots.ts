// The cluster-wide limit on backup Jobs running at once (chart value
// backups.maxConcurrent), and the queue of runs that wait for a slot, in
// order of their jittered due time, then namespace/name (compareRuns of
// src/backup/queue.ts). It lives in the leader's memory: every reconcile of
// a due backup takes its place again, so a new leader rebuilds the queue
// from its first pass over the objects — and grants nothing until that pass
// has had time to run (holdUntil), or the first run to ask would take a slot
// whatever its place.
//
// A run takes its place as soon as its reconcile knows when it may start
// (expect), not only when it asks for a slot: one whose reconcile comes a
// little late (a busy operator) is still ahead of runs due after it. Only
// for expectGraceMs after its start, so that a run whose reconcile does not
// come (an error, a halt) cannot hold the queue. Runs whose start lies ahead
// wait behind every run that may start, and are not counted as waiting.
//
// Reconciles of different backups run concurrently, but the check for a free
// slot and the claim of it happen without an await in between, so two
// reconciles never both take the last slot.
import { compareRuns, type QueuedRun } from '../../backup/queue.ts';

export interface BackupSlotSettings {
  /** Backup Jobs that may run at once, in the whole cluster. */
  readonly maxConcurrent: number;
  /** Scheduled runs start this many seconds at most after their minute, each schedule at its own fixed offset. */
  readonly jitterSeconds: number;
}

export const defaultBackupSlotSettings: BackupSlotSettings = { maxConcurrent: 2, jitterSeconds: 300 };

/**
 * The kind whose run waits: MySQLBackup and VolumeBackup runs share the slots
 * (one limit for both), but a key (namespace/name) is unique only within a
 * kind, and each controller wakes only its own waiting runs.
 */
export type SlotKind = 'MySQLBackup' | 'VolumeBackup';

/** Longer than a created Job takes to reach the cache (the reconciler gives it 2 minutes before it counts the Job lost). */
export const claimTtlMs = 180_000;

/** How long a new leader grants no slot after its caches synced: its first pass over the backups queues every due run first. */
export const firstPassHoldMs = 10_000;

/** How long after its start an expected run that has not asked for a slot keeps its place ahead of runs that have. */
export const expectGraceMs = 30_000;

export type SlotAnswer = { readonly granted: true } | { readonly granted: false; readonly position: number; readonly length: number };

export class BackupSlots {
  readonly settings: BackupSlotSettings;
  /** Keyed by kind and key (waitingKey). */
  readonly #waiting = new Map<string, Waiting>();
  /** Jobs created by this process that the Job cache may not show yet: "namespace/job", with when the slot was granted (ms) and to whom (waitingKey). */
  readonly #claimed = new Map<string, { readonly at: number; readonly owner: string }>();
  readonly #now: () => number;
  /** No slot is granted before this time (ms): a new leader's first pass over the backups. */
  #holdUntil = 0;

  constructor(settings: BackupSlotSettings, clock: { readonly now?: () => number } = {}) {
    if (!Number.isInteger(settings.maxConcurrent) || settings.maxConcurrent < 1) {
      throw new RangeError(`backups.maxConcurrent must be a whole number ≥ 1, not ${settings.maxConcurrent}`);
    }
    this.settings = settings;
    this.#now = clock.now ?? Date.now;
  }

  /**
   * Asks for a slot for `run` (of backup run.key, which may start at
   * run.startAt), to be run by Job `job` ("namespace/name"). `running` are
   * the backup Jobs the cache shows unfinished. Granted when fewer than
   * maxConcurrent run and no run ahead in the queue waits; the Job then
   * counts as running until `settled` is called for it. Otherwise the run
   * keeps (or takes) its place, and the answer tells where it stands.
   */
  request(run: QueuedRun, job: string, running: ReadonlySet<string>, kind: SlotKind = 'MySQLBackup'): SlotAnswer {
    const key = waitingKey(kind, run.key);
    this.#waiting.set(key, { kind, run, asked: true });
    this.#forgetStaleClaims(running);
    const active = new Set([...running, ...this.#claimed.keys()]);
    const queue = this.#ordered().map((w) => waitingKey(w.kind, w.run.key));
    const position = queue.indexOf(key);
    if (this.#now() >= this.#holdUntil && position >= 0 && position < this.settings.maxConcurrent - active.size) {
      this.#waiting.delete(key);
      this.#claimed.set(job, { at: this.#now(), owner: key });
      return { granted: true };
    }
    return { granted: false, position: position + 1, length: queue.length };
  }

  /**
   * Run `run` of `kind` is due and may start at run.startAt: it takes its
   * place in the queue now, ahead of runs that may start later, even before
   * it asks for a slot.
   */
  expect(run: QueuedRun, kind: SlotKind = 'MySQLBackup'): void {
    const key = waitingKey(kind, run.key);
    // A run that asked already keeps that: expecting it again changes nothing.
    if (this.#waiting.get(key)?.run.id === run.id) return;
    this.#waiting.set(key, { kind, run, asked: false });
  }

  /** Grants no slot before `untilMs` (epoch ms): called when this process starts leading, so its first pass over the backups can queue every due run before any starts. */
  holdUntil(untilMs: number): void {
    this.#holdUntil = untilMs;
  }

  /** Whether this process created Job `job` and the cache may not show it yet. */
  claimed(job: string): boolean {
    return this.#claimed.has(job);
  }

  /**
   * A claim ends when the cache shows its Job running (it counts there), and
   * at the latest after claimTtlMs: a Job deleted before the cache showed it,
   * or whose backup was deleted before following it, must not hold a slot
   * for ever.
   */
  #forgetStaleClaims(running: ReadonlySet<string>): void {
    const now = this.#now();
    for (const [job, claim] of this.#claimed) {
      if (running.has(job) || now - claim.at > claimTtlMs) this.#claimed.delete(job);
    }
  }

  /** The cache now shows Job `job`: it counts through `running` from here on. */
  settled(job: string): void {
    this.#claimed.delete(job);
  }

  /** Backup `key` of `kind` waits no more (deleted, suspended, its run skipped or missed). */
  withdraw(key: string, kind: SlotKind = 'MySQLBackup'): void {
    this.#waiting.delete(waitingKey(kind, key));
  }

  /**
   * Backup `key` of `kind` is gone: it waits no more, and the slots granted
   * to Jobs it had just created end now. Deleted with its Jobs before the
   * cache showed them, it would otherwise hold them until claimTtlMs.
   */
  forget(key: string, kind: SlotKind = 'MySQLBackup'): void {
    const owner = waitingKey(kind, key);
    this.#waiting.delete(owner);
    for (const [job, claim] of this.#claimed) if (claim.owner === owner) this.#claimed.delete(job);
  }

  /** Waiting backups of every kind, first in line first. */
  queue(): string[] {
    return this.#ordered().map((w) => w.run.key);
  }

  /** Waiting backups of one kind, first in line first: what its controller wakes when a slot frees. */
  waiting(kind: SlotKind): string[] {
    return this.#ordered()
      .filter((w) => w.kind === kind)
      .map((w) => w.run.key);
  }

  /**
   * Runs that wait for a slot, first in line first: those that asked, and
   * those expected whose start passed less than expectGraceMs ago.
   */
  #ordered(): Waiting[] {
    const now = this.#now();
    // A run that asked was found startable by its reconcile; one only expected is in line from its start for expectGraceMs.
    const inLine = (w: Waiting): boolean => w.asked || (w.run.startAt.getTime() <= now && now - w.run.startAt.getTime() < expectGraceMs);
    return [...this.#waiting.values()].filter(inLine).sort((a, b) => compareRuns(a.run, b.run) || (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0));
  }
}

interface Waiting {
  readonly kind: SlotKind;
  readonly run: QueuedRun;
  /** Whether its reconcile asked for a slot (request), or only knows it is due (expect). */
  readonly asked: boolean;
}

function waitingKey(kind: SlotKind, key: string): string {
  return `${kind}:${key}`;
}
