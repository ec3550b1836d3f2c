// What to do with a backup run whose attempt has been started: follow it,
// record its success, retry it, or give it up — and what to clean from its
// target. Pure: the controller observes the attempt's Job and passes what it
// saw; the same observations always give the same decision, so a reconcile can
// be repeated or cut off anywhere.
//
// One attempt is one Job with one pod (the Job's own backoffLimit is 0): a
// failed attempt goes back to the cluster-wide queue at its run's old place
// and waits for a slot like any run, instead of holding its slot through
// pod restarts while runs due earlier wait.

/**
 * Attempts of one run, the first included. Three, because what a retry can
 * fix passes within minutes (a node drained under the pod, the store or the
 * server briefly unreachable, a pod killed), and a run that failed three
 * times in a row fails for a lasting reason: more attempts would only take
 * slots that other sites' backups are waiting for.
 */
export const maxRunAttempts = 3;

/** A retry waits this long after the failed attempt's end, doubled for each further attempt (15 s, 30 s): a store that was restarting gets time to answer again. */
export const retryDelayMs = 15_000;

/** What the attempt's Job came to, as observed. */
export type AttemptObservation =
  /** The Job has not ended (or was just created and the cache does not show it yet). */
  | { readonly state: 'running' }
  | { readonly state: 'succeeded' }
  /**
   * The Job failed (its pod failed or was killed, its deadline passed), or it
   * completed without a result, or it is gone. `retryable` is false for a
   * refusal that no retry can change (the script's exit status 2).
   */
  | { readonly state: 'failed'; readonly reason: string; readonly message: string; readonly retryable: boolean; readonly endedAt: Date };

export interface RunSituation {
  /** The attempt observed: 1 for the first. */
  readonly attempt: number;
  readonly observation: AttemptObservation;
  /** Attempts allowed in all (maxRunAttempts unless a test says otherwise). */
  readonly maxAttempts?: number;
}

/**
 * What to remove from the run's folder in the target once no attempt runs:
 * - `incompleteUploads`: multipart uploads never completed (a killed
 *   attempt's), the folder's complete objects stay — the run succeeded;
 * - `folder`: everything in it, manifest first (the run failed; nothing in it
 *   is a backup, and a partial manifest-less folder must not linger).
 */
export type CleanUp = 'incompleteUploads' | 'folder';

export type RunDecision =
  | { readonly action: 'follow' }
  | { readonly action: 'recordSuccess'; readonly cleanUp: 'incompleteUploads' }
  | {
      readonly action: 'retry';
      readonly nextAttempt: number;
      /** Not before this time; then at the run's old place in the queue. */
      readonly notBefore: Date;
      readonly cleanUp: 'folder';
      /** For status and the Event: which attempt failed, why, and what follows. */
      readonly message: string;
    }
  | { readonly action: 'giveUp'; readonly reason: string; readonly message: string; readonly cleanUp: 'folder' };

export function decideRun(situation: RunSituation): RunDecision {
  const { attempt, observation } = situation;
  const maxAttempts = situation.maxAttempts ?? maxRunAttempts;
  if (!Number.isInteger(attempt) || attempt < 1) throw new RangeError(`an attempt number is a whole number ≥ 1, not ${attempt}`);
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new RangeError(`the most attempts of a run is a whole number ≥ 1, not ${maxAttempts}`);
  switch (observation.state) {
    case 'running':
      return { action: 'follow' };
    case 'succeeded':
      return { action: 'recordSuccess', cleanUp: 'incompleteUploads' };
    case 'failed': {
      const why = `${observation.reason}: ${observation.message}`;
      if (!observation.retryable) {
        return { action: 'giveUp', reason: observation.reason, message: `attempt ${attempt} was refused, which no retry can change: ${why}`, cleanUp: 'folder' };
      }
      if (attempt >= maxAttempts) {
        return { action: 'giveUp', reason: observation.reason, message: `failed ${attempt === 1 ? 'its only attempt' : `all ${attempt} attempts`}; the last: ${why}`, cleanUp: 'folder' };
      }
      const notBefore = new Date(observation.endedAt.getTime() + retryDelayMs * 2 ** (attempt - 1));
      return {
        action: 'retry',
        nextAttempt: attempt + 1,
        notBefore,
        cleanUp: 'folder',
        message: `attempt ${attempt} of ${maxAttempts} failed (${why}); attempt ${attempt + 1} starts from ${notBefore.toISOString()} at the run's place in the queue`,
      };
    }
  }
}
