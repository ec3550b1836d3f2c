// A cache of one resource type, kept current by list + watch, as client-go's
// reflector and informer do: list (in pages), then watch from the list's
// resourceVersion. The watch resumes from the last resourceVersion seen after
// any interruption, so no change is lost; when the API server no longer has
// that version (410 Gone) the informer lists again and tells its handlers the
// difference, so they always see one consistent world.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { KubeAccess } from './kube-access.ts';
import { KubeApiError, collectionPath, statusCodeOf, transportFor, type KubeStatus, type KubeTransport } from './kube-request.ts';

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    deletionTimestamp?: string;
    finalizers?: string[];
    ownerReferences?: OwnerReference[];
    creationTimestamp?: string;
  };
}

export type InformerEvent = 'add' | 'update' | 'delete';

export type InformerHandler<T> = (event: InformerEvent, object: T, previous: T | undefined) => void;

export interface InformerOptions {
  /** The API server and credentials (loadKubeAccess). */
  kubeConfig: KubeAccess;
  /** The process's shared transport for kubeConfig; default: one of the informer's own. */
  transport?: KubeTransport;
  /** 'v1', 'flightdeck.t7.io/v1', … */
  apiVersion: string;
  /** The resource: 'secrets', 'mysqlusers', 'namespaces', … */
  plural: string;
  /** Watch one namespace; all namespaces (or a cluster-scoped kind) when absent. */
  namespace?: string;
  labelSelector?: string;
  logger: Logger;
  /**
   * When set, every cached object is handed to the handlers again as
   * 'update' with previous === object at this interval, for periodic drift
   * checks of state outside Kubernetes.
   */
  resyncIntervalMs?: number;
  /**
   * Applied to every object before it is cached (to drop what handlers never
   * read). metadata.managedFields and kubectl's last-applied-configuration
   * annotation are always dropped before, to save memory.
   */
  transform?: (object: KubeObject) => KubeObject;
  /** Objects per list page (the `limit` of a list request). Default 500. */
  pageSize?: number;
  /**
   * How long the API server keeps one watch open before ending it (the
   * informer then watches again from where it was). Default: random between
   * 5 and 10 minutes, as client-go, so that many watches do not reconnect at
   * once.
   */
  watchTimeoutSeconds?: number;
  /**
   * A watch that delivers nothing (the API server sends a bookmark about every
   * minute) for this long is taken for a dead connection and replaced.
   * Default 150 s.
   */
  watchIdleTimeoutMs?: number;
  /** Delay before the first retry after a failure; it doubles up to maxBackoffMs. Default 200 ms. */
  initialBackoffMs?: number;
  /** Longest delay between retries. Default 10 s. */
  maxBackoffMs?: number;
}

interface ObjectList {
  kind?: string;
  metadata?: { resourceVersion?: string; continue?: string };
  items?: KubeObject[];
}

interface WatchEvent {
  type?: string;
  object?: unknown;
}

/** How one watch ended. */
type WatchOutcome =
  | { readonly kind: 'expired' } // 410 Gone: the resourceVersion is too old; list again
  | { readonly kind: 'closed'; readonly healthy: boolean } // ended without an error (server timeout, interrupted)
  | { readonly kind: 'failed'; readonly error: unknown; readonly answered: boolean; readonly healthy: boolean };

const lastAppliedAnnotation = 'kubectl.kubernetes.io/last-applied-configuration';

/** The index list(namespace) looks objects up by. */
const namespaceIndex = 'namespace';

/**
 * An index of the cache: its key function, the cache keys of the objects
 * under each index key, and the index keys each object was filed under (so
 * that replacing or removing it does not compute its keys again).
 */
interface CacheIndex<T> {
  readonly keysOf: (object: T) => readonly string[];
  readonly entries: Map<string, Set<string>>;
  readonly filedUnder: Map<string, readonly string[]>;
}

function addToIndex<T>(index: CacheIndex<T>, cacheKey: string, object: T): void {
  const indexKeys = index.keysOf(object);
  index.filedUnder.set(cacheKey, indexKeys);
  for (const indexKey of indexKeys) {
    let keys = index.entries.get(indexKey);
    if (keys === undefined) {
      keys = new Set();
      index.entries.set(indexKey, keys);
    }
    keys.add(cacheKey);
  }
}

/** Consecutive watches refused by the API server (an HTTP error, not a network error) before the informer lists again. */
const refusedWatchesBeforeRelist = 3;

/** A watch that ran at least this long counts as healthy: the next failure starts the backoff again from its beginning. */
const healthyWatchMs = 1000;

/**
 * Caches the objects of one resource type and tells handlers of every change.
 *
 * Handlers run synchronously, after the cache has been updated (get/list in a
 * handler see the new state); an exception in a handler is logged and does not
 * stop the informer or other handlers. Objects handed out are the cached ones:
 * do not mutate them.
 *
 * The informer never logs objects (it caches Secrets), only kinds, names and
 * resourceVersions.
 */
export class Informer<T extends KubeObject> {
  readonly #options: InformerOptions;
  readonly #transport: KubeTransport;
  readonly #log: Logger;
  readonly #path: string;
  readonly #cache = new Map<string, T>();
  readonly #indexes = new Map<string, CacheIndex<T>>();
  readonly #handlers: InformerHandler<T>[] = [];
  /** Aborted by stop(): ends the current request, watch and backoff sleep. */
  readonly #stopped = new AbortController();
  #started = false;
  #synced = false;
  #rejectStart: ((error: Error) => void) | undefined;
  #resourceVersion: string | undefined;
  /** Kind of the listed objects, from the list's kind; list items carry none. */
  #kind: string | undefined;
  #watchAbort: AbortController | undefined;
  #resyncTimer: ReturnType<typeof setInterval> | undefined;
  #paused: Promise<string | undefined> | undefined;

  constructor(options: InformerOptions) {
    this.#options = options;
    // Cluster-scoped objects have no namespace: filed under none.
    this.addIndex(namespaceIndex, (object) => (object.metadata.namespace === undefined ? [] : [object.metadata.namespace]));
    this.#transport = transportFor(options.kubeConfig, options.transport);
    this.#path = collectionPath(options.apiVersion, options.plural, options.namespace);
    this.#log = options.logger.child({
      resource: options.plural,
      apiVersion: options.apiVersion,
      ...(options.namespace === undefined ? {} : { watchNamespace: options.namespace }),
    });
  }

  /**
   * Registers a handler. A handler registered after the cache has synced is
   * first told of every cached object as 'add', so it sees the same world as
   * the handlers registered before start().
   */
  onChange(handler: InformerHandler<T>): void {
    this.#handlers.push(handler);
    if (this.#synced) {
      for (const object of this.#cache.values()) this.#call(handler, 'add', object, undefined);
    }
  }

  /**
   * Starts listing and watching. Resolves once the first complete list is in
   * the cache and has been handed to the handlers as 'add'. A failing list
   * (API server unreachable, resource not served yet) is retried with
   * backoff, so this waits until it succeeds; it rejects only when stop() is
   * called first, or when start() was called before.
   */
  start(): Promise<void> {
    if (this.#started) return Promise.reject(new Error(`informer of ${this.#options.plural} was already started`));
    this.#started = true;
    return new Promise<void>((resolve, reject) => {
      this.#rejectStart = reject;
      this.#run(() => {
        this.#rejectStart = undefined;
        resolve();
      }).catch((error: unknown) => {
        // #run handles its own errors; reaching this is a bug, and the cache
        // would silently go stale, so make it loud.
        this.#log.error({ err: error }, 'informer loop failed; the cache is no longer updated');
        reject(error instanceof Error ? error : new Error(String(error)));
      });
    });
  }

  /** Stops watching; the cache keeps its last state and handlers are no longer called. */
  stop(): void {
    if (this.#isStopped()) return;
    this.#stopped.abort();
    clearInterval(this.#resyncTimer);
    this.#rejectStart?.(new Error(`informer of ${this.#options.plural} stopped before its cache synced`));
    this.#rejectStart = undefined;
  }

  /** True once the first complete list is in the cache. */
  get synced(): boolean {
    return this.#synced;
  }

  /** The cached object; `namespace` undefined for cluster-scoped kinds. */
  get(namespace: string | undefined, name: string): T | undefined {
    return this.#cache.get(cacheKey(namespace, name));
  }

  /** The cached objects of one namespace, or all when `namespace` is undefined. */
  list(namespace?: string): T[] {
    return namespace === undefined ? [...this.#cache.values()] : this.byIndex(namespaceIndex, namespace);
  }

  /**
   * Keeps the cached objects findable by the keys `keysOf` gives for each
   * (as client-go's indexers): byIndex(name, key) then costs a lookup, not a
   * pass over the cache. `keysOf` must be a pure function of the object and
   * must not throw.
   */
  addIndex(name: string, keysOf: (object: T) => readonly string[]): void {
    if (this.#indexes.has(name)) throw new Error(`index ${name} exists already`);
    const index: CacheIndex<T> = { keysOf, entries: new Map(), filedUnder: new Map() };
    this.#indexes.set(name, index);
    for (const [cacheKey, object] of this.#cache) addToIndex(index, cacheKey, object);
  }

  /** The cached objects that index `name` files under `key`. */
  byIndex(name: string, key: string): T[] {
    const index = this.#indexes.get(name);
    if (index === undefined) throw new Error(`no index ${name}`);
    const out: T[] = [];
    for (const cacheKey of index.entries.get(key) ?? []) {
      const object = this.#cache.get(cacheKey);
      if (object !== undefined) out.push(object);
    }
    return out;
  }

  /** Puts `object` in the cache and the indexes, replacing what was under `key`. */
  #store(key: string, object: T): void {
    this.#unstore(key);
    this.#cache.set(key, object);
    for (const index of this.#indexes.values()) addToIndex(index, key, object);
  }

  #unstore(key: string): void {
    if (!this.#cache.delete(key)) return;
    for (const index of this.#indexes.values()) {
      for (const indexKey of index.filedUnder.get(key) ?? []) {
        const keys = index.entries.get(indexKey);
        keys?.delete(key);
        if (keys?.size === 0) index.entries.delete(indexKey);
      }
      index.filedUnder.delete(key);
    }
  }

  /**
   * Test hook, not for controllers: ends the current watch and watches no
   * more until the returned function is called. The next watch then starts
   * from `resumeFrom` when given — '1' makes the API server answer 410 Gone, as
   * after a long disconnect — else from the last resourceVersion seen.
   */
  interruptWatch(): (resumeFrom?: string) => void {
    let resume: (resourceVersion: string | undefined) => void = () => undefined;
    this.#paused = new Promise((resolve) => {
      resume = resolve;
    });
    this.#watchAbort?.abort(new InterruptedWatch());
    return (resumeFrom) => {
      resume(resumeFrom);
    };
  }

  /** List, then watch, until stopped: the supervisor of the informer's requests. */
  async #run(onSynced: () => void): Promise<void> {
    const backoff = new Backoff(this.#options.initialBackoffMs ?? 200, this.#options.maxBackoffMs ?? 10_000);
    let mustList = true;
    let refused = 0;
    let expiredInARow = 0;
    while (!this.#isStopped()) {
      if (mustList) {
        try {
          await this.#relist();
        } catch (error) {
          if (this.#isStopped()) return;
          const delay = backoff.next();
          this.#log.warn({ err: error, retryInMs: delay }, 'list failed; retrying');
          await this.#sleep(delay);
          continue;
        }
        mustList = false;
        refused = 0;
        if (!this.#synced) {
          this.#synced = true;
          this.#startResync();
          onSynced();
        }
      }

      if (this.#paused !== undefined) {
        const resumeFrom = await Promise.race([this.#paused, this.#whenStopped()]);
        this.#paused = undefined;
        if (resumeFrom !== undefined) this.#resourceVersion = resumeFrom;
        if (this.#isStopped()) return;
      }

      const outcome = await this.#watch();
      if (this.#isStopped()) return;
      if (outcome.kind === 'expired') {
        this.#log.info({ resourceVersion: this.#resourceVersion }, 'watch resourceVersion expired (410 Gone); listing again');
        mustList = true;
        // A fresh list's resourceVersion should not expire at once; if it
        // does again and again, do not hammer the API server with lists.
        if (++expiredInARow > 1) await this.#sleep(backoff.next());
        continue;
      }
      if (outcome.healthy) {
        backoff.reset();
        expiredInARow = 0;
      }
      if (outcome.kind === 'closed') {
        // A watch that ends at once without error and without events would
        // otherwise reconnect in a tight loop.
        if (!outcome.healthy) await this.#sleep(backoff.next());
        continue;
      }
      refused = outcome.answered ? refused + 1 : 0;
      const delay = backoff.next();
      if (refused >= refusedWatchesBeforeRelist) {
        // The API server keeps refusing this resourceVersion (too large after
        // a restore, …): start again from a fresh list.
        mustList = true;
        refused = 0;
      }
      this.#log.warn(
        { err: outcome.error, resourceVersion: this.#resourceVersion, retryInMs: delay, relist: mustList },
        'watch failed; watching again',
      );
      await this.#sleep(delay);
    }
  }

  /**
   * Lists everything (in pages), replaces the cache and tells the handlers of
   * the difference to the previous cache: 'add' for new objects, 'update' for
   * changed ones (by resourceVersion), 'delete' for vanished ones.
   */
  async #relist(): Promise<void> {
    let list: { items: KubeObject[]; resourceVersion: string; pages: number };
    try {
      list = await this.#listAll(this.#options.pageSize ?? 500);
    } catch (error) {
      // A continue token expires after a few minutes (410); a list that takes
      // that long is rare, and one request without pages always completes.
      if (statusCodeOf(error) !== 410) throw error;
      this.#log.info('list continue token expired; listing again without pages');
      list = await this.#listAll(undefined);
    }

    const next = new Map<string, T>();
    const changes: { event: InformerEvent; object: T; previous: T | undefined }[] = [];
    for (const item of list.items) {
      const object = this.#prepare(item);
      const key = keyOf(object);
      next.set(key, object);
      const previous = this.#cache.get(key);
      if (previous === undefined) changes.push({ event: 'add', object, previous });
      else if (previous.metadata.resourceVersion !== object.metadata.resourceVersion) {
        changes.push({ event: 'update', object, previous });
      }
    }
    for (const [key, previous] of this.#cache) {
      if (!next.has(key)) changes.push({ event: 'delete', object: previous, previous });
    }
    // Swap first, so handlers see the whole new world, not half of it.
    this.#cache.clear();
    for (const index of this.#indexes.values()) {
      index.entries.clear();
      index.filedUnder.clear();
    }
    for (const [key, object] of next) this.#store(key, object);
    this.#resourceVersion = list.resourceVersion;
    this.#log.debug(
      { objects: next.size, pages: list.pages, changes: changes.length, resourceVersion: list.resourceVersion },
      'listed',
    );
    for (const change of changes) this.#emit(change.event, change.object, change.previous);
  }

  async #listAll(pageSize: number | undefined): Promise<{ items: KubeObject[]; resourceVersion: string; pages: number }> {
    const items: KubeObject[] = [];
    let pages = 0;
    let token: string | undefined;
    let resourceVersion: string | undefined;
    do {
      const page = await this.#transport.json<ObjectList>({
        method: 'GET',
        path: this.#path,
        query: { limit: pageSize, continue: token, labelSelector: this.#options.labelSelector },
        signal: this.#stopped.signal,
      });
      if (page.kind !== undefined) this.#kind = page.kind.replace(/List$/, '');
      pages++;
      items.push(...(page.items ?? []));
      // All pages are one snapshot; each carries its resourceVersion.
      resourceVersion = page.metadata?.resourceVersion;
      token = page.metadata?.continue === '' ? undefined : page.metadata?.continue;
    } while (token !== undefined);
    if (resourceVersion === undefined) throw new Error(`GET ${this.#path} returned a list without resourceVersion`);
    return { items, resourceVersion, pages };
  }

  /** One watch request, from the current resourceVersion until it ends; applies its events as they come. */
  async #watch(): Promise<WatchOutcome> {
    const abort = new AbortController();
    this.#watchAbort = abort;
    const signal = AbortSignal.any([this.#stopped.signal, abort.signal]);
    const idleMs = this.#options.watchIdleTimeoutMs ?? 150_000;
    let idleTimer: ReturnType<typeof setTimeout> | undefined;
    const touch = () => {
      clearTimeout(idleTimer);
      idleTimer = setTimeout(() => {
        abort.abort(new Error(`watch delivered nothing for ${idleMs} ms; taking the connection for dead`));
      }, idleMs);
    };
    const started = performance.now();
    let events = 0;
    const healthy = () => events > 0 || performance.now() - started >= healthyWatchMs;
    try {
      touch();
      const stream = await this.#transport.stream({
        method: 'GET',
        path: this.#path,
        query: {
          watch: true,
          resourceVersion: this.#resourceVersion,
          allowWatchBookmarks: true,
          timeoutSeconds: this.#options.watchTimeoutSeconds ?? 300 + Math.floor(Math.random() * 300),
          labelSelector: this.#options.labelSelector,
        },
        signal,
      });
      const lines = new LineSplitter();
      const reader = stream.getReader();
      for (;;) {
        const chunk = await reader.read();
        if (chunk.done) break;
        touch();
        for (const line of lines.push(chunk.value)) {
          const result = this.#apply(line);
          if (result === 'ok') {
            events++;
            continue;
          }
          if (result === 'expired') return { kind: 'expired' };
          return { kind: 'failed', error: result, answered: true, healthy: healthy() };
        }
      }
      return { kind: 'closed', healthy: healthy() };
    } catch (error) {
      if (statusCodeOf(error) === 410) return { kind: 'expired' };
      if (abort.signal.reason instanceof InterruptedWatch || this.#isStopped()) {
        return { kind: 'closed', healthy: true };
      }
      const cause: unknown = abort.signal.aborted ? abort.signal.reason : error;
      return { kind: 'failed', error: cause, answered: error instanceof KubeApiError, healthy: healthy() };
    } finally {
      clearTimeout(idleTimer);
      // Releases the connection when the watch is left before its end.
      abort.abort(new InterruptedWatch());
      this.#watchAbort = undefined;
    }
  }

  /** Applies one line of a watch stream: 'ok', 'expired' (410), or the error that ends this watch. */
  #apply(line: string): 'ok' | 'expired' | Error {
    let event: WatchEvent;
    try {
      event = JSON.parse(line) as WatchEvent;
    } catch {
      return new Error(`watch sent a line that is not JSON (${line.length} characters)`);
    }
    if (event.type === 'ERROR') {
      const status = (event.object ?? {}) as KubeStatus;
      if (status.code === 410) return 'expired';
      return new KubeApiError(`watch ${this.#path}`, status.code ?? 500, status);
    }
    const raw = event.object as KubeObject | undefined;
    const resourceVersion = raw?.metadata.resourceVersion;
    if (raw === undefined || resourceVersion === undefined) {
      return new Error(`watch sent a ${event.type ?? 'typeless'} event without an object or resourceVersion`);
    }
    if (event.type === 'BOOKMARK') {
      this.#resourceVersion = resourceVersion;
      return 'ok';
    }
    if (event.type !== 'ADDED' && event.type !== 'MODIFIED' && event.type !== 'DELETED') {
      return new Error(`watch sent an event of unknown type ${event.type ?? '(none)'}`);
    }
    const object = this.#prepare(raw);
    const key = keyOf(object);
    const previous = this.#cache.get(key);
    if (event.type === 'DELETED') {
      this.#unstore(key);
      this.#resourceVersion = resourceVersion;
      this.#emit('delete', object, previous);
    } else {
      this.#store(key, object);
      this.#resourceVersion = resourceVersion;
      this.#emit(previous === undefined ? 'add' : 'update', object, previous);
    }
    return 'ok';
  }

  /** Drops managedFields, applies the transform, and fills in apiVersion and kind (list items have none). */
  #prepare(raw: KubeObject): T {
    // Copied without managedFields rather than copied and `delete`d: a
    // deleted property turns a V8 object into a dictionary several times its
    // size, and the cache holds thousands of these (5 MiB with 10 000 objects).
    const metadata: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(raw.metadata)) {
      if (key !== 'managedFields') metadata[key] = value;
    }
    // kubectl apply's copy of the whole manifest: as large as the object again, and read by nobody here.
    const annotations = raw.metadata.annotations;
    if (annotations?.[lastAppliedAnnotation] !== undefined) {
      metadata.annotations = Object.fromEntries(Object.entries(annotations).filter(([key]) => key !== lastAppliedAnnotation));
    }
    let object: KubeObject = { ...raw, metadata: metadata as KubeObject['metadata'] };
    if (this.#options.transform !== undefined) object = this.#options.transform(object);
    object.apiVersion ??= this.#options.apiVersion;
    if (this.#kind !== undefined) object.kind ??= this.#kind;
    return object as T;
  }

  #emit(event: InformerEvent, object: T, previous: T | undefined): void {
    for (const handler of this.#handlers) {
      if (this.#isStopped()) return;
      this.#call(handler, event, object, previous);
    }
  }

  #call(handler: InformerHandler<T>, event: InformerEvent, object: T, previous: T | undefined): void {
    try {
      handler(event, object, previous);
    } catch (error) {
      this.#log.error(
        { err: error, event, namespace: object.metadata.namespace, name: object.metadata.name },
        'informer handler threw',
      );
    }
  }

  #startResync(): void {
    const interval = this.#options.resyncIntervalMs;
    if (interval === undefined || interval <= 0) return;
    this.#resyncTimer = setInterval(() => {
      for (const object of [...this.#cache.values()]) this.#emit('update', object, object);
    }, interval);
    // The watch keeps the process alive while it matters; a timer alone should not.
    this.#resyncTimer.unref();
  }

  async #sleep(ms: number): Promise<void> {
    try {
      await sleep(ms, undefined, { signal: this.#stopped.signal });
    } catch {
      // Aborted by stop(); the loop checks the signal next.
    }
  }

  /** A method, not a field read, so that TypeScript does not narrow it across awaits. */
  #isStopped(): boolean {
    return this.#stopped.signal.aborted;
  }

  #whenStopped(): Promise<undefined> {
    const signal = this.#stopped.signal;
    if (signal.aborted) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      signal.addEventListener(
        'abort',
        () => {
          resolve(undefined);
        },
        { once: true },
      );
    });
  }
}

/** The reason a watch is aborted on purpose (interruptWatch, or leaving it early): not a failure. */
class InterruptedWatch extends Error {
  constructor() {
    super('watch interrupted');
    this.name = 'InterruptedWatch';
  }
}

function cacheKey(namespace: string | undefined, name: string): string {
  return namespace === undefined || namespace === '' ? name : `${namespace}/${name}`;
}

function keyOf(object: KubeObject): string {
  return cacheKey(object.metadata.namespace, object.metadata.name);
}

/** Splits a byte stream into lines (a watch sends one JSON event per line). */
export class LineSplitter {
  readonly #decoder = new TextDecoder();
  #rest = '';

  /** The complete lines `chunk` finishes; an incomplete last line is kept for the next chunk. Empty lines are skipped. */
  push(chunk: Uint8Array): string[] {
    const text = this.#rest + this.#decoder.decode(chunk, { stream: true });
    const parts = text.split('\n');
    this.#rest = parts.pop() ?? '';
    return parts.filter((line) => line.trim() !== '');
  }
}

/** Exponential backoff with jitter: initial, doubling, capped. */
export class Backoff {
  readonly #initialMs: number;
  readonly #maxMs: number;
  #failures = 0;

  constructor(initialMs: number, maxMs: number) {
    this.#initialMs = initialMs;
    this.#maxMs = maxMs;
  }

  /** The delay before the next retry; each call doubles the next one, up to the cap. Up to 20 % jitter, never above the cap. */
  next(): number {
    const base = Math.min(this.#maxMs, this.#initialMs * 2 ** Math.min(this.#failures, 30));
    this.#failures++;
    return Math.min(this.#maxMs, Math.round(base * (1 + Math.random() * 0.2)));
  }

  reset(): void {
    this.#failures = 0;
  }
}
