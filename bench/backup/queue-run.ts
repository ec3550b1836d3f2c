// The queue figure at process level: N backups due in the same minute, started
// by the operator's own pure queue (src/backup/queue.ts planStarts) under the
// cluster-wide limit, each run being the real backup script against a real
// mariadbd and store — the operator's reconcile loop without Kubernetes: it
// plans, starts what the plan says, and plans again when a run ends or the
// next jittered start comes. Compared with the same backups run one by one.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { planStarts, type QueuedRun } from '../../src/backup/queue.ts';
import { jitteredStart } from '../../src/backup/schedule.ts';
import { formatRunId } from '../../src/backup/manifest.ts';
import { ourBackup, type Account, type Store } from './pipelines.ts';

interface SiteRun extends QueuedRun {
  readonly database: string;
}

export interface QueueFigure {
  readonly backups: number;
  readonly limit: number;
  readonly jitterSeconds: number;
  /** Each backup alone, one after the other (seconds, in order). */
  readonly oneByOneSeconds: readonly number[];
  readonly oneByOneSumSeconds: number;
  /** From the runs being due to the last one done, under the limit. */
  readonly queuedMakespanSeconds: number;
  readonly queuedRunSeconds: readonly number[];
  /** How long each run waited for a slot after its jittered start. */
  readonly queuedWaitSeconds: readonly number[];
  readonly mostRunningAtOnce: number;
  readonly makespanOverSum: number;
}

const round = (n: number): number => Math.round(n * 100) / 100;

/** Runs the one-by-one pass, then the queued pass, on `databases` (one backup each). */
export async function measureQueue(options: {
  account: Account;
  store: Store;
  workDir: string;
  databases: readonly string[];
  limit: number;
  jitterSeconds: number;
  log: (message: string) => void;
}): Promise<QueueFigure> {
  const { account, store, databases, limit, jitterSeconds, log } = options;
  const workDirOf = (pass: string, database: string): string => {
    const dir = join(options.workDir, 'queue', pass, database);
    mkdirSync(dir, { recursive: true });
    return dir;
  };

  const oneByOneSeconds: number[] = [];
  for (const database of databases) {
    const id = formatRunId(new Date());
    const { seconds } = await ourBackup(account, store, workDirOf('one-by-one', database), database, `queue/one-by-one/${database}/${id}`, id);
    oneByOneSeconds.push(seconds);
  }
  const oneByOneSumSeconds = oneByOneSeconds.reduce((a, b) => a + b, 0);
  log(`queue: ${databases.length} backups one by one took ${round(oneByOneSumSeconds)} s in sum`);

  const dueAt = new Date();
  const id = formatRunId(dueAt);
  const pending = new Map<string, SiteRun>();
  for (const database of databases) {
    const key = `sites/${database}`;
    pending.set(key, { key, id, dueAt, startAt: jitteredStart(dueAt, key, jitterSeconds), database });
  }
  const running = new Map<string, Promise<string>>();
  const runSeconds: number[] = [];
  const waitSeconds: number[] = [];
  let mostRunningAtOnce = 0;
  const start = performance.now();
  while (pending.size > 0 || running.size > 0) {
    const plan = planStarts({ due: [...pending.values()], running: [...running.keys()].map((key) => ({ key, id })), limit, now: new Date() });
    for (const run of plan.start) {
      pending.delete(run.key);
      waitSeconds.push(Math.max(0, (Date.now() - run.startAt.getTime()) / 1000));
      running.set(
        run.key,
        ourBackup(account, store, workDirOf('queued', run.database), run.database, `queue/queued/${run.database}/${id}`, id).then((result) => {
          runSeconds.push(result.seconds);
          return run.key;
        }),
      );
    }
    mostRunningAtOnce = Math.max(mostRunningAtOnce, running.size);
    const wake = plan.wakeAt === undefined ? [] : [new Promise<undefined>((resolve) => setTimeout(() => { resolve(undefined); }, Math.max(0, (plan.wakeAt?.getTime() ?? 0) - Date.now())))];
    const finished = await Promise.race([...running.values(), ...wake]);
    if (finished !== undefined) running.delete(finished);
  }
  const queuedMakespanSeconds = (performance.now() - start) / 1000;
  log(`queue: the same ${databases.length} under a limit of ${limit} took ${round(queuedMakespanSeconds)} s`);
  return {
    backups: databases.length,
    limit,
    jitterSeconds,
    oneByOneSeconds: oneByOneSeconds.map(round),
    oneByOneSumSeconds: round(oneByOneSumSeconds),
    queuedMakespanSeconds: round(queuedMakespanSeconds),
    queuedRunSeconds: runSeconds.map(round),
    queuedWaitSeconds: waitSeconds.map(round),
    mostRunningAtOnce,
    makespanOverSum: round(queuedMakespanSeconds / oneByOneSumSeconds),
  };
}
