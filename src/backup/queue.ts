// The cluster-wide queue of backup runs: which due runs start now under the
// limit on concurrent runs (chart value backups.maxConcurrent), and where the
// others wait. Pure: the controller passes what it observed (runs due, Jobs
// running) and acts on the plan; calling it again with the same observations
// gives the same plan, so a reconcile can be repeated or interrupted safely.
//
// Order is fair and stable: by the time a run may start (its due time plus
// its schedule's jitter), then by key, then by id. A run that failed and is
// retried keeps its original times, so it goes back to its old place — ahead
// of runs that became due after it — rather than to the end of the queue.

export interface QueuedRun {
  /** The MySQLBackup, as namespace/name. */
  readonly key: string;
  /** The run's id: the UTC time it was due, YYYYMMDDTHHMMSSZ. */
  readonly id: string;
  /** When the run was due (the schedule's time, or the creation of a one-off backup). */
  readonly dueAt: Date;
  /** When it may start: dueAt plus its schedule's jitter (schedule.ts jitteredStart). */
  readonly startAt: Date;
}

/** A run whose Job exists and has not finished: it holds a slot. */
export interface RunningRun {
  readonly key: string;
  readonly id: string;
}

export interface WaitingRun<R extends QueuedRun> {
  readonly run: R;
  /** 1 for the run that gets the next free slot. */
  readonly position: number;
  /** Why it waits: every slot is taken, or another run of the same MySQLBackup is still running. */
  readonly reason: 'NoFreeSlot' | 'SameBackupRunning';
}

export interface StartPlan<R extends QueuedRun> {
  /** Runs to start now, in queue order. */
  readonly start: readonly R[];
  /** Runs that may start but wait, in queue order. */
  readonly waiting: readonly WaitingRun<R>[];
  /** Runs whose jittered start lies ahead, earliest first. */
  readonly notYet: readonly R[];
  /** Runs left out because they are running already: a run never starts twice. */
  readonly alreadyRunning: readonly R[];
  /** When the earliest of notYet may start: plan again then (and whenever a run ends). */
  readonly wakeAt?: Date;
}

export interface PlanInput<R extends QueuedRun> {
  readonly due: readonly R[];
  readonly running: readonly RunningRun[];
  /** Most runs at once, cluster-wide; 0 starts nothing. */
  readonly limit: number;
  readonly now: Date;
}

/** Queue order: jittered start, then key, then id. */
export function compareRuns(a: QueuedRun, b: QueuedRun): number {
  return a.startAt.getTime() - b.startAt.getTime() || compareText(a.key, b.key) || compareText(a.id, b.id);
}

/** Code-point order, the same on every machine and locale. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const runKey = (run: { key: string; id: string }): string => `${run.key}\u0000${run.id}`;

export function planStarts<R extends QueuedRun>(input: PlanInput<R>): StartPlan<R> {
  const { due, running, limit, now } = input;
  if (!Number.isInteger(limit) || limit < 0) throw new RangeError(`the limit on concurrent backups must be a whole number ≥ 0, not ${limit}`);
  const runningRuns = new Set(running.map(runKey));
  const busyBackups = new Set(running.map((r) => r.key));
  let freeSlots = Math.max(0, limit - runningRuns.size);

  const seen = new Set<string>();
  const alreadyRunning: R[] = [];
  const eligible: R[] = [];
  const notYet: R[] = [];
  for (const run of [...due].sort(compareRuns)) {
    const k = runKey(run);
    if (seen.has(k)) continue; // the same run listed twice is one run
    seen.add(k);
    if (runningRuns.has(k)) alreadyRunning.push(run);
    else if (run.startAt.getTime() <= now.getTime()) eligible.push(run);
    else notYet.push(run);
  }

  const start: R[] = [];
  const waiting: WaitingRun<R>[] = [];
  for (const run of eligible) {
    if (busyBackups.has(run.key)) {
      waiting.push({ run, position: waiting.length + 1, reason: 'SameBackupRunning' });
    } else if (freeSlots > 0) {
      start.push(run);
      busyBackups.add(run.key);
      freeSlots--;
    } else {
      waiting.push({ run, position: waiting.length + 1, reason: 'NoFreeSlot' });
    }
  }

  const plan: { -readonly [K in keyof StartPlan<R>]: StartPlan<R>[K] } = { start, waiting, notYet, alreadyRunning };
  const earliest = notYet[0];
  if (earliest !== undefined) plan.wakeAt = earliest.startAt;
  return plan;
}
