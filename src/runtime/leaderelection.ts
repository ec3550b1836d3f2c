// Leader election on a coordination.k8s.io/v1 Lease, after client-go's
// tools/leaderelection, so that of several operator replicas exactly one runs
// the controllers and a new one takes over when it goes away.
//
// Safety rests on two rules, as in client-go:
//
//   1. Candidates never compare the lease's renewTime with their own clock
//      (clocks of different machines disagree). A candidate remembers, on its
//      own monotonic clock, when it last saw the lease record change, and
//      treats the lease as expired once leaseDuration has passed since then
//      without a change.
//   2. A leader that has not renewed within renewDeadline (< leaseDuration)
//      stops leading, so it has stopped before any candidate can consider the
//      lease expired.
//
// Every write carries the resourceVersion last read, so of two candidates
// writing at once one gets 409 Conflict and loses.
import type { Logger } from 'pino';
import type { KubeAccess } from './kube-access.ts';
import { collectionPath, statusCodeOf, transportFor, type KubeTransport } from './kube-request.ts';
import type { OperatorMetrics } from './metrics.ts';
import { formatMicroTime } from './microtime.ts';

export interface LeaderElectionOptions {
  /** The API server and credentials (loadKubeAccess). */
  kubeConfig: KubeAccess;
  /** The process's shared transport for kubeConfig (the lease uses its own connection pool in it); default: one of its own. */
  transport?: KubeTransport;
  /** Namespace and name of the Lease; the namespace must exist, the Lease is created when missing. */
  namespace: string;
  name: string;
  /** This process's identity in the Lease's holderIdentity: unique per replica (the pod name). */
  identity: string;
  /** How long candidates wait, after they last saw the lease change, before taking it over; default 15 000 ms. Written to the Lease in whole seconds (rounded up). */
  leaseDurationMs?: number;
  /** A leader that has not renewed for this long stops leading; default 10 000 ms. Must be less than leaseDurationMs. */
  renewDeadlineMs?: number;
  /** Time between attempts to acquire or renew; default 2 000 ms. Must be less than renewDeadlineMs. */
  retryPeriodMs?: number;
  /**
   * Whether stop() gives the lease up (empty holderIdentity) so that another
   * replica takes over at once instead of after leaseDuration; default true.
   * Only safe when the leader's work has stopped before stop() is called.
   */
  releaseOnStop?: boolean;
  logger: Logger;
  /** When given, flightdeck_leader follows isLeader(). */
  metrics?: OperatorMetrics;
  /** Called when this process becomes leader: start the controllers. */
  onStartedLeading: () => void;
  /**
   * Called when this process stops leading: after a failed renewal, when the
   * lease is found held by another, or in stop(). Not called if it never led.
   * Stop all leader-only work at once: another replica may take over as soon
   * as leaseDuration has passed since the last renewal.
   */
  onStoppedLeading: () => void;
}

type Attempt = { outcome: 'acquired' } | { outcome: 'held'; holder: string } | { outcome: 'failed' };

/**
 * A coordination.k8s.io/v1 Lease as the API server sends it. Fields not named
 * here (managedFields, spec.preferredHolder, spec.strategy, …) are carried
 * through unchanged when the lease is written back.
 */
interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; [field: string]: unknown };
  spec?: LeaseSpec;
}

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  /** MicroTime: RFC 3339 with six fractional digits (formatMicroTime). */
  acquireTime?: string;
  /** MicroTime, as acquireTime. */
  renewTime?: string;
  leaseTransitions?: number;
  [field: string]: unknown;
}

export class LeaderElector {
  readonly #transport: KubeTransport;
  /** URL path of the Lease object. */
  readonly #path: string;
  readonly #namespace: string;
  readonly #name: string;
  readonly #identity: string;
  readonly #leaseSeconds: number;
  readonly #renewDeadlineMs: number;
  readonly #retryPeriodMs: number;
  readonly #releaseOnStop: boolean;
  readonly #log: Logger;
  readonly #metrics: OperatorMetrics | undefined;
  readonly #onStartedLeading: () => void;
  readonly #onStoppedLeading: () => void;
  /** Aborts the loop's sleep and its request in flight when stop() is called. */
  readonly #stopSignal = new AbortController();

  #leading = false;
  /** Monotonic time at which the last successful acquire or renew request was sent. */
  #renewedAt = 0;
  #deadlineTimer: ReturnType<typeof setTimeout> | undefined;
  /** The Lease as last read or written by us; its resourceVersion guards our next write. */
  #lease: Lease | undefined;
  /** Monotonic time at which the lease record was last seen to change. */
  #observedAt = 0;
  #loop: Promise<void> | undefined;
  #stopped: Promise<void> | undefined;

  constructor(options: LeaderElectionOptions) {
    const leaseDurationMs = options.leaseDurationMs ?? 15_000;
    const renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    const retryPeriodMs = options.retryPeriodMs ?? 2_000;
    if (!(retryPeriodMs > 0 && renewDeadlineMs > retryPeriodMs && leaseDurationMs > renewDeadlineMs)) {
      throw new Error(
        `leader election needs leaseDurationMs > renewDeadlineMs > retryPeriodMs > 0, got ${leaseDurationMs}, ${renewDeadlineMs}, ${retryPeriodMs}`,
      );
    }
    if (options.identity === '') throw new Error('leader election needs a non-empty identity');
    this.#transport = transportFor(options.kubeConfig, options.transport);
    this.#path = `${collectionPath('coordination.k8s.io/v1', 'leases', options.namespace)}/${encodeURIComponent(options.name)}`;
    this.#namespace = options.namespace;
    this.#name = options.name;
    this.#identity = options.identity;
    this.#leaseSeconds = Math.ceil(leaseDurationMs / 1000);
    this.#renewDeadlineMs = renewDeadlineMs;
    this.#retryPeriodMs = retryPeriodMs;
    this.#releaseOnStop = options.releaseOnStop ?? true;
    this.#log = options.logger.child({ lease: `${options.namespace}/${options.name}`, identity: options.identity });
    this.#metrics = options.metrics;
    this.#onStartedLeading = options.onStartedLeading;
    this.#onStoppedLeading = options.onStoppedLeading;
    this.#metrics?.setLeader(false);
  }

  /**
   * Starts trying to acquire the lease every retryPeriod (with up to 20 %
   * jitter), and once acquired renews it every retryPeriod. After losing it,
   * the loop goes back to trying to acquire, so the process may lead again
   * later. Errors are logged and retried, never thrown. Call once.
   */
  run(): void {
    if (this.#loop !== undefined) throw new Error('LeaderElector.run was already called');
    this.#loop = this.#runLoop();
  }

  /**
   * True while this process holds the lease and has renewed it within
   * renewDeadline. Turns false on time even if the event loop was too busy to
   * run the renewal or the step-down.
   */
  isLeader(): boolean {
    return this.#leading && performance.now() - this.#renewedAt < this.#renewDeadlineMs;
  }

  /**
   * Stops the loop (aborting a request in flight), calls onStoppedLeading if
   * leading, then — unless releaseOnStop is false — releases the lease if it
   * names this process, so another replica can take it at once. Stop the
   * leader's work (e.g. `await controller.stop()`) before calling this:
   * onStoppedLeading cannot be awaited. A failed release is logged; the lease
   * then expires after its duration. Never rejects; later calls return the
   * same promise.
   */
  stop(): Promise<void> {
    this.#stopped ??= this.#stop();
    return this.#stopped;
  }

  async #stop(): Promise<void> {
    this.#stopSignal.abort();
    await this.#loop;
    if (this.#leading) this.#stepDown('stopping');
    clearTimeout(this.#deadlineTimer);
    if (this.#releaseOnStop) await this.#release();
  }

  async #runLoop(): Promise<void> {
    while (!this.#stopping()) {
      const attemptStartedAt = performance.now();
      const attempt = await this.#tryAcquireOrRenew();
      if (attempt.outcome === 'acquired') {
        this.#renewedAt = attemptStartedAt;
        this.#armDeadline();
        if (!this.#leading) this.#becomeLeader();
      } else if (this.#leading) {
        if (attempt.outcome === 'held') this.#stepDown(`the lease is now held by ${attempt.holder}`);
        else if (performance.now() - this.#renewedAt >= this.#renewDeadlineMs) this.#stepDown('could not renew the lease within the renew deadline');
      }
      if (this.#stopping()) break;
      // Candidates jitter their retries so that they do not all write at once
      // when a lease expires; the leader renews on the beat.
      await this.#sleep(this.#leading ? this.#retryPeriodMs : this.#retryPeriodMs * (1 + 0.2 * Math.random()));
    }
  }

  /** One acquire-or-renew round trip; never throws. */
  async #tryAcquireOrRenew(): Promise<Attempt> {
    // While leading, write straight over our own last version: one request
    // instead of two. A conflict means someone else wrote; fall back to reading.
    if (this.#leading && this.#lease !== undefined) {
      try {
        this.#observe(await this.#replace(this.#claimed(this.#lease)));
        return { outcome: 'acquired' };
      } catch (error) {
        if (statusCodeOf(error) !== 409) {
          this.#log.warn({ error: describe(error) }, 'renewing the lease failed');
          return { outcome: 'failed' };
        }
      }
    }

    let lease: Lease;
    try {
      lease = await this.#read();
    } catch (error) {
      if (statusCodeOf(error) === 404) return this.#create();
      this.#log.warn({ error: describe(error) }, 'reading the lease failed');
      return { outcome: 'failed' };
    }
    this.#observe(lease);

    const holder = lease.spec?.holderIdentity ?? '';
    const durationMs = (lease.spec?.leaseDurationSeconds ?? this.#leaseSeconds) * 1000;
    if (holder !== '' && holder !== this.#identity && performance.now() < this.#observedAt + durationMs) {
      return { outcome: 'held', holder };
    }
    try {
      this.#observe(await this.#replace(this.#claimed(lease)));
      if (holder !== this.#identity) this.#log.info({ previousHolder: holder }, 'took over the lease');
      return { outcome: 'acquired' };
    } catch (error) {
      // 409: another candidate wrote first; it is the leader now.
      if (statusCodeOf(error) !== 409) this.#log.warn({ error: describe(error) }, 'acquiring the lease failed');
      return { outcome: 'failed' };
    }
  }

  async #create(): Promise<Attempt> {
    const now = formatMicroTime(Date.now());
    const body = leaseObject(
      { name: this.#name, namespace: this.#namespace },
      leaseSpec(undefined, {
        holderIdentity: this.#identity,
        leaseDurationSeconds: this.#leaseSeconds,
        acquireTime: now,
        renewTime: now,
        leaseTransitions: 0,
      }),
    );
    try {
      this.#observe(
        await this.#transport.json<Lease>({
          method: 'POST',
          path: collectionPath('coordination.k8s.io/v1', 'leases', this.#namespace),
          body,
          signal: this.#signal(),
          pool: 'leader-election',
        }),
      );
      this.#log.info('created the lease');
      return { outcome: 'acquired' };
    } catch (error) {
      // 409: another candidate created it first.
      if (statusCodeOf(error) !== 409) this.#log.warn({ error: describe(error) }, 'creating the lease failed');
      return { outcome: 'failed' };
    }
  }

  /** The lease as this process holding it now: renewed if it was ours, else taken over (one more transition). */
  #claimed(lease: Lease): Lease {
    const spec = lease.spec ?? {};
    const now = formatMicroTime(Date.now());
    const ours = spec.holderIdentity === this.#identity;
    const transitions = spec.leaseTransitions ?? 0;
    return leaseObject(
      lease.metadata,
      leaseSpec(spec, {
        holderIdentity: this.#identity,
        leaseDurationSeconds: this.#leaseSeconds,
        acquireTime: ours ? (spec.acquireTime ?? now) : now,
        renewTime: now,
        leaseTransitions: ours ? transitions : transitions + 1,
      }),
    );
  }

  /**
   * Gives the lease up the way client-go does: empty holderIdentity (which
   * candidates may take at once) and a one-second duration. Retries once
   * after a conflict, in case the conflicting write was our own aborted renewal.
   */
  async #release(): Promise<void> {
    try {
      for (let attempt = 1; ; attempt++) {
        const lease = this.#lease;
        if (lease?.spec?.holderIdentity !== this.#identity) return;
        const now = formatMicroTime(Date.now());
        const released = leaseObject(
          lease.metadata,
          leaseSpec(lease.spec, { holderIdentity: '', leaseDurationSeconds: 1, acquireTime: now, renewTime: now }),
        );
        try {
          this.#lease = await this.#replace(released, false);
          this.#log.info('released the lease');
          return;
        } catch (error) {
          if (statusCodeOf(error) !== 409 || attempt === 2) throw error;
        }
        this.#lease = await this.#read(false);
      }
    } catch (error) {
      this.#log.warn({ error: describe(error) }, 'releasing the lease failed; it expires after its duration');
    }
  }

  #read(abortOnStop = true): Promise<Lease> {
    return this.#transport.json<Lease>({ method: 'GET', path: this.#path, signal: this.#signal(abortOnStop), pool: 'leader-election' });
  }

  #replace(body: Lease, abortOnStop = true): Promise<Lease> {
    return this.#transport.json<Lease>({ method: 'PUT', path: this.#path, body, signal: this.#signal(abortOnStop), pool: 'leader-election' });
  }

  /** Remembers `lease` and, if its record differs from the last one seen, when that change was seen. */
  #observe(lease: Lease): void {
    // resourceVersion changes with every write, so it stands for "the record
    // changed" without comparing timestamps the server may reformat.
    if (lease.metadata.resourceVersion !== this.#lease?.metadata.resourceVersion) {
      const previousHolder = this.#lease?.spec?.holderIdentity;
      const holder = lease.spec?.holderIdentity;
      if (holder !== previousHolder && holder !== this.#identity && holder !== undefined && holder !== '') {
        this.#log.info({ holder }, 'observed a new leader');
      }
      this.#observedAt = performance.now();
    }
    this.#lease = lease;
  }

  #becomeLeader(): void {
    this.#leading = true;
    this.#metrics?.setLeader(true);
    this.#log.info('started leading');
    callback(this.#log, 'onStartedLeading', this.#onStartedLeading);
  }

  #stepDown(reason: string): void {
    this.#leading = false;
    clearTimeout(this.#deadlineTimer);
    this.#metrics?.setLeader(false);
    this.#log.warn({ reason }, 'stopped leading');
    callback(this.#log, 'onStoppedLeading', this.#onStoppedLeading);
  }

  /** Steps down at the renew deadline even while a renewal request hangs. */
  #armDeadline(): void {
    clearTimeout(this.#deadlineTimer);
    const remaining = Math.ceil(this.#renewedAt + this.#renewDeadlineMs - performance.now());
    this.#deadlineTimer = setTimeout(() => {
      if (!this.#leading) return;
      // Timers run on a millisecond clock and may fire a fraction of a
      // millisecond early by performance.now(): check again then.
      if (performance.now() - this.#renewedAt >= this.#renewDeadlineMs) this.#stepDown('could not renew the lease within the renew deadline');
      else this.#armDeadline();
    }, Math.max(0, remaining));
    // The loop's own timers keep the process alive; this one must not.
    this.#deadlineTimer.unref();
  }

  #stopping(): boolean {
    return this.#stopSignal.signal.aborted;
  }

  /** Resolves after `ms`, or at once when stop() is called. */
  #sleep(ms: number): Promise<void> {
    const signal = this.#stopSignal.signal;
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    });
  }

  /**
   * The signal of one request: it times out after half the renew deadline, so
   * that one hung connection cannot use up the leader's whole deadline, and
   * (except for the release) aborts on stop().
   */
  #signal(abortOnStop = true): AbortSignal {
    const timeout = AbortSignal.timeout(this.#renewDeadlineMs / 2);
    return abortOnStop ? AbortSignal.any([timeout, this.#stopSignal.signal]) : timeout;
  }
}

function leaseObject(metadata: Lease['metadata'], spec: LeaseSpec): Lease {
  return { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata, spec };
}

/** A copy of `base` with `changes` applied; unknown fields of `base` (preferredHolder, strategy) are kept. */
function leaseSpec(base: LeaseSpec | undefined, changes: LeaseSpec): LeaseSpec {
  return { ...base, ...changes };
}

/** Runs a user callback; a throw is logged rather than breaking the election loop. */
function callback(log: Logger, name: string, fn: () => void): void {
  try {
    fn();
  } catch (error) {
    log.error({ error: error instanceof Error ? error.message : String(error) }, `${name} threw`);
  }
}

/**
 * A failed API call for the log: KubeApiError's message (method, path,
 * status and the Status message) or the network error's; never a body or
 * headers.
 */
function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
