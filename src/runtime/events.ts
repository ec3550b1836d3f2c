// Events a user sees in `kubectl describe`: core/v1 Events whose
// involvedObject names the object (uid included, which describe matches on).
// Like client-go's recorder, a repeat of the same event within ten minutes
// bumps count and lastTimestamp of the existing Event ("x5 over 3m") instead
// of creating another object, so a reconcile retrying an error every few
// seconds does not flood etcd.
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { kubernetesTime } from './conditions.ts';
import type { KubeObject } from './informer.ts';
import type { KubeAccess } from './kube-access.ts';
import { collectionPath, statusCodeOf, transportFor, type KubeTransport } from './kube-request.ts';

export type EventType = 'Normal' | 'Warning';

export type EventSubject = KubeObject & { apiVersion: string; kind: string };

export interface EventRecorderOptions {
  /** The API server and credentials (loadKubeAccess). */
  kubeConfig: KubeAccess;
  /** The process's shared transport for kubeConfig; default: one of the recorder's own. */
  transport?: KubeTransport;
  /** Shown as "From" in kubectl describe (source.component). */
  component: string;
  logger: Logger;
  /** Wall clock, for timestamps and the ten-minute series window. Default: the system clock. */
  now?: () => Date;
  /** reportingInstance: which replica wrote the Event. Default: the host name (the pod name in a cluster). */
  instance?: string;
  /** Told how many Events wait to be written whenever that changes, and of each Event dropped. */
  observer?: { onPending: (pending: number) => void; onDropped: () => void };
}

/** A repeat later than this after the last one starts a new Event object, as in client-go. */
export const seriesWindowMs = 10 * 60 * 1000;

/** The message is cut to this many characters, as client-go does for events.k8s.io notes. */
export const maxMessageLength = 1024;

/** How many series the recorder remembers; the oldest is forgotten first (its next repeat creates a new Event). */
const maxSeries = 4096;

/**
 * Event writes in flight at once. Events matter less than the reconciles'
 * own writes: sent a few at a time (client-go sends them one by one), a burst
 * of reconciles does not compete with a burst of its own Events for the API
 * server.
 */
const maxWritesInFlight = 2;

/** Events waiting to be written beyond which new ones are dropped (and the drop logged), as client-go's full channel does. */
const maxQueuedEvents = 4096;

/** What the recorder remembers of an Event it wrote, to count repeats on it. */
export interface EventSeries {
  readonly namespace: string;
  readonly name: string;
  count: number;
  lastTime: Date;
}

/**
 * Identifies "the same event": same object (by uid when known, else by
 * kind/namespace/name), type, reason and message.
 */
export function eventKey(object: EventSubject, type: EventType, reason: string, message: string): string {
  const { namespace, name, uid } = object.metadata;
  const subject = uid ?? `${object.apiVersion}/${object.kind}/${namespace ?? ''}/${name}`;
  return JSON.stringify([subject, type, reason, message]);
}

/** Whether an event at `now` continues `series` (counted on its Event) rather than starting a new Event. */
export function continuesSeries(series: EventSeries | undefined, now: Date): series is EventSeries {
  if (series === undefined) return false;
  const elapsed = now.getTime() - series.lastTime.getTime();
  return elapsed >= 0 && elapsed < seriesWindowMs;
}

/**
 * Name of a new Event: the object's name and the time in hex nanoseconds, as
 * client-go names them, cut so that it stays a valid object name.
 */
export function eventName(objectName: string, now: Date, sequence: number): string {
  const suffix = (BigInt(now.getTime()) * 1_000_000n + BigInt(sequence % 1_000_000)).toString(16);
  return `${objectName.slice(0, 253 - suffix.length - 1)}.${suffix}`;
}

export class EventRecorder {
  readonly #transport: KubeTransport;
  readonly #component: string;
  readonly #instance: string;
  readonly #log: Logger;
  readonly #now: () => Date;
  /** Series by eventKey, oldest first. */
  readonly #series = new Map<string, EventSeries>();
  /** The last write per key: writes of one key run one after another, so a repeat never races its first Event's creation. */
  readonly #tails = new Map<string, Promise<void>>();
  readonly #pending = new Set<Promise<void>>();
  readonly #observer: EventRecorderOptions['observer'];
  /** Writes waiting for one of the maxWritesInFlight slots, first come first served. */
  readonly #waiting: (() => void)[] = [];
  #inFlight = 0;
  #sequence = 0;

  constructor(options: EventRecorderOptions) {
    this.#transport = transportFor(options.kubeConfig, options.transport);
    this.#component = options.component;
    this.#instance = options.instance ?? hostname();
    this.#log = options.logger.child({ component: 'events' });
    this.#now = options.now ?? (() => new Date());
    this.#observer = options.observer;
  }

  /**
   * Records an event about `object`. Fire and forget: the write happens in the
   * background, a failure is logged and never thrown. Repeated identical events
   * (same object, type, reason, message) within 10 minutes of the previous one
   * increase count and lastTimestamp on the existing Event instead of creating
   * new ones. Events of cluster-scoped objects go to the default namespace.
   */
  record(object: EventSubject, type: EventType, reason: string, message: string): void {
    if (this.#pending.size >= maxQueuedEvents) {
      this.#log.warn({ reason, kind: object.kind, namespace: object.metadata.namespace, name: object.metadata.name }, 'too many events waiting; event dropped');
      this.#observer?.onDropped();
      return;
    }
    const cut = message.length > maxMessageLength ? `${message.slice(0, maxMessageLength - 1)}…` : message;
    const key = eventKey(object, type, reason, cut);
    const time = this.#now();
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const write = previous
      .then(() => this.#inSlot(() => this.#write(key, object, type, reason, cut, time)))
      .catch((error: unknown) => {
        this.#log.warn(
          { err: error, reason, kind: object.kind, namespace: object.metadata.namespace, name: object.metadata.name },
          'could not record event',
        );
      });
    this.#tails.set(key, write);
    this.#pending.add(write);
    this.#observer?.onPending(this.#pending.size);
    void write.finally(() => {
      this.#pending.delete(write);
      this.#observer?.onPending(this.#pending.size);
      if (this.#tails.get(key) === write) this.#tails.delete(key);
    });
  }

  /** Events recorded and not yet written (or given up on). */
  get pending(): number {
    return this.#pending.size;
  }

  /** Resolves once every event recorded so far has been written (or its failure logged). Never rejects. */
  async flush(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  /** Runs `write` once fewer than maxWritesInFlight writes run. */
  async #inSlot(write: () => Promise<void>): Promise<void> {
    if (this.#inFlight < maxWritesInFlight) this.#inFlight++;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve)); // the slot is handed over, counted still
    try {
      await write();
    } finally {
      const next = this.#waiting.shift();
      if (next === undefined) this.#inFlight--;
      else next();
    }
  }

  async #write(key: string, object: EventSubject, type: EventType, reason: string, message: string, time: Date): Promise<void> {
    const series = this.#series.get(key);
    if (continuesSeries(series, time)) {
      try {
        await this.#transport.json({
          method: 'PATCH',
          path: `${collectionPath('v1', 'events', series.namespace)}/${encodeURIComponent(series.name)}`,
          body: { count: series.count + 1, lastTimestamp: kubernetesTime(time) },
          contentType: 'application/merge-patch+json',
        });
        series.count++;
        series.lastTime = time;
        this.#remember(key, series);
        return;
      } catch (error) {
        // Events expire (an hour by default) or get deleted: start a new one.
        if (statusCodeOf(error) !== 404) throw error;
      }
    }
    const { namespace: objectNamespace, name, uid, resourceVersion } = object.metadata;
    const namespace = objectNamespace ?? 'default';
    const newName = eventName(name, time, this.#sequence++);
    await this.#transport.json({
      method: 'POST',
      path: collectionPath('v1', 'events', namespace),
      body: {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: newName, namespace },
        involvedObject: {
          apiVersion: object.apiVersion,
          kind: object.kind,
          name,
          ...(objectNamespace === undefined ? {} : { namespace: objectNamespace }),
          ...(uid === undefined ? {} : { uid }),
          ...(resourceVersion === undefined ? {} : { resourceVersion }),
        },
        type,
        reason,
        message,
        count: 1,
        firstTimestamp: kubernetesTime(time),
        lastTimestamp: kubernetesTime(time),
        source: { component: this.#component },
        reportingComponent: this.#component,
        reportingInstance: this.#instance,
      },
    });
    this.#remember(key, { namespace, name: newName, count: 1, lastTime: time });
  }

  /** Stores `series` as the newest, forgetting the oldest beyond the limit and any past the window. */
  #remember(key: string, series: EventSeries): void {
    this.#series.delete(key);
    this.#series.set(key, series);
    for (const [oldKey, old] of this.#series) {
      if (this.#series.size <= maxSeries && continuesSeries(old, series.lastTime)) break;
      this.#series.delete(oldKey);
    }
  }
}
