// The few API calls controllers make, on plain JSON objects of any kind.
// Writes go through server-side apply under one field manager, so the
// operator owns exactly the fields it sets and never overwrites a user's.
import type { KubeObject } from './informer.ts';
import type { KubeAccess } from './kube-access.ts';
import { KubeApiError, collectionPath, statusCodeOf, transportFor, type KubeRequest, type KubeTransport } from './kube-request.ts';

export { KubeApiError, statusCodeOf };

/** Names one object: apiVersion and kind are resolved to a URL through API discovery. */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  /** Required for namespaced kinds, ignored for cluster-scoped ones. */
  namespace?: string;
  name: string;
}

interface ApiResource {
  name: string;
  kind: string;
  namespaced: boolean;
}

interface ApiResourceList {
  resources: ApiResource[];
}

/** How often a finalizer patch is retried when another writer changed the object in between (409 Conflict). */
const finalizerAttempts = 10;

const applyPatch = 'application/apply-patch+yaml';
const mergePatch = 'application/merge-patch+json';

export interface KubeClientOptions {
  /** The process's shared transport for kubeConfig; default: one of the client's own. */
  transport?: KubeTransport;
}

/**
 * A client for controllers. Every method throws KubeApiError (see
 * statusCodeOf) for an API answer it does not document as a result, and an
 * Error naming the request when the API server cannot be reached; nothing is
 * retried except the finalizer patches on conflicts. A client made by
 * withSignal() rejects with the signal's reason once it is aborted.
 */
export class KubeClient {
  readonly #transport: KubeTransport;
  readonly #fieldManager: string;
  /** Discovery per apiVersion; a kind missing from it is looked up again (a CRD may be installed later). Shared with the clients withSignal() makes. */
  #discovery = new Map<string, ApiResource[]>();
  /** Cancels every request of this client (see withSignal); set only by withSignal. */
  #signal: AbortSignal | undefined;

  /** `kubeConfig`: the API server and credentials (loadKubeAccess). */
  constructor(kubeConfig: KubeAccess, fieldManager: string, options: KubeClientOptions = {}) {
    this.#transport = transportFor(kubeConfig, options.transport);
    this.#fieldManager = fieldManager;
  }

  /**
   * This client with every request tied to `signal`: once it aborts, requests
   * in flight are cut off and new ones are not sent; both reject with the
   * signal's reason. Shares the transport and discovery with this client, so
   * it costs one small object (one per reconcile).
   */
  withSignal(signal: AbortSignal): KubeClient {
    const client = new KubeClient(this.#transport.access, this.#fieldManager, { transport: this.#transport });
    client.#discovery = this.#discovery;
    client.#signal = signal;
    return client;
  }

  /**
   * This client applying under another field manager (same transport,
   * discovery and signal): for fields one part of the operator owns apart
   * from the rest, so that applying one set never removes the other (server-
   * side apply drops what a manager set before and leaves out).
   */
  withFieldManager(fieldManager: string): KubeClient {
    const client = new KubeClient(this.#transport.access, fieldManager, { transport: this.#transport });
    client.#discovery = this.#discovery;
    client.#signal = this.#signal;
    return client;
  }

  /** Sends `request` on the transport, tied to this client's signal. */
  #json<T>(request: KubeRequest): Promise<T> {
    return this.#transport.json<T>(this.#signal === undefined ? request : { ...request, signal: this.#signal });
  }

  /**
   * Server-side apply of `object` under the field manager, forcing ownership
   * of conflicting fields: creates the object when missing, otherwise sets the
   * fields `object` names and removes those this manager set before and no
   * longer names. Returns the object the server stored. A
   * metadata.resourceVersion in `object` is a precondition (409 when stale);
   * leave it out. Status is ignored for kinds with a status subresource (see
   * applyStatus).
   */
  async apply<T extends KubeObject>(object: T): Promise<T> {
    return this.#json<T>({
      method: 'PATCH',
      path: await this.#objectPath(refOf(object)),
      query: { fieldManager: this.#fieldManager, force: true },
      body: object,
      contentType: applyPatch,
    });
  }

  /**
   * Server-side apply to the status subresource: `object` holds apiVersion,
   * kind, metadata.name/namespace and status only; spec and metadata are not
   * changed. Status fields this manager set before and leaves out are removed.
   * Throws KubeApiError 404 when the object does not exist (status apply never
   * creates).
   */
  async applyStatus<T extends KubeObject>(object: T): Promise<T> {
    return this.#json<T>({
      method: 'PATCH',
      path: `${await this.#objectPath(refOf(object))}/status`,
      query: { fieldManager: this.#fieldManager, force: true },
      body: object,
      contentType: applyPatch,
    });
  }

  /** The object as the API server has it now (not a cache); undefined when it does not exist (404). */
  async get<T extends KubeObject>(ref: ObjectRef): Promise<T | undefined> {
    try {
      return await this.#json<T>({ method: 'GET', path: await this.#objectPath(ref) });
    } catch (error) {
      if (statusCodeOf(error) === 404) return undefined;
      throw error;
    }
  }

  /**
   * The objects of a kind in `namespace` as the API server has them now (not
   * a cache), for kinds the operator does not cache, such as a tenant's Pods.
   * One request, no paging: for small sets such as one namespace's Pods.
   */
  async list<T extends KubeObject>(apiVersion: string, kind: string, namespace: string): Promise<T[]> {
    const { plural, namespaced } = await this.#resource(apiVersion, kind);
    const list = await this.#json<{ items?: T[] }>({ method: 'GET', path: collectionPath(apiVersion, plural, namespaced ? namespace : undefined) });
    return list.items ?? [];
  }

  /**
   * Creates `object` (owned by the field manager) and returns it as stored;
   * undefined when an object of that name already exists (409) — the existing
   * one is left unchanged. Useful for things written once, such as a generated
   * password.
   */
  async create<T extends KubeObject>(object: T): Promise<T | undefined> {
    const ref = refOf(object);
    const { plural, namespaced } = await this.#resource(ref.apiVersion, ref.kind);
    try {
      return await this.#json<T>({
        method: 'POST',
        path: collectionPath(ref.apiVersion, plural, namespaced ? requireNamespace(ref) : undefined),
        query: { fieldManager: this.#fieldManager },
        body: object,
      });
    } catch (error) {
      if (statusCodeOf(error) === 409) return undefined;
      throw error;
    }
  }

  /**
   * Asks the API server to delete the object, dependents in the background.
   * True when the request was accepted — an object with finalizers then only
   * gets a deletionTimestamp and goes away once they are removed; false when
   * it does not exist (404).
   */
  async delete(ref: ObjectRef): Promise<boolean> {
    try {
      await this.#json({
        method: 'DELETE',
        path: await this.#objectPath(ref),
        body: { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Background' },
      });
      return true;
    } catch (error) {
      if (statusCodeOf(error) === 404) return false;
      throw error;
    }
  }

  /**
   * Adds `finalizer` to metadata.finalizers; a no-op when it is present.
   * The patch carries the resourceVersion it was computed from, so a
   * concurrent writer's change is never overwritten: on 409 Conflict it reads
   * the object again and retries (up to 10 times, then throws the conflict).
   * Throws KubeApiError 404 when the object does not exist, and 422 when it is
   * being deleted (the API server admits no new finalizers then). `known`, a
   * recent copy of the object, replaces the first read.
   */
  async addFinalizer(ref: ObjectRef, finalizer: string, known?: KubeObject): Promise<void> {
    await this.#patchFinalizers(ref, (finalizers) => (finalizers.includes(finalizer) ? undefined : [...finalizers, finalizer]), known);
  }

  /**
   * Removes `finalizer` from metadata.finalizers; a no-op when it is absent or
   * the object is gone. Conflicts are handled as in addFinalizer. Removing the
   * last finalizer of an object that is being deleted lets it go.
   */
  async removeFinalizer(ref: ObjectRef, finalizer: string, known?: KubeObject): Promise<void> {
    try {
      await this.#patchFinalizers(
        ref,
        (finalizers) => (finalizers.includes(finalizer) ? finalizers.filter((f) => f !== finalizer) : undefined),
        known,
      );
    } catch (error) {
      if (statusCodeOf(error) === 404) return;
      throw error;
    }
  }

  /**
   * Reads the object, asks `change` for its new finalizer list (undefined:
   * nothing to do) and writes it with the resourceVersion read as
   * precondition, retrying on 409.
   *
   * A merge patch with the whole list and the resourceVersion, not a JSON
   * patch: the API server applies a patch to the object as it is now before
   * it checks the precondition, so a JSON patch computed from an older read
   * ("remove /metadata/finalizers/2") can fail as 422 Invalid instead of the
   * 409 that calls for a retry.
   */
  async #patchFinalizers(
    ref: ObjectRef,
    change: (finalizers: readonly string[]) => string[] | undefined,
    known: KubeObject | undefined,
  ): Promise<void> {
    const path = await this.#objectPath(ref);
    for (let attempt = 1; ; attempt++) {
      // A copy the caller holds (e.g. from an informer) saves a GET; if it is
      // stale the PATCH fails with 409 and the next attempt reads afresh.
      const current = attempt === 1 && known !== undefined ? known : await this.#json<KubeObject>({ method: 'GET', path });
      const finalizers = change(current.metadata.finalizers ?? []);
      if (finalizers === undefined) return;
      const resourceVersion = current.metadata.resourceVersion;
      if (resourceVersion === undefined) throw new Error(`GET ${path} returned an object without resourceVersion`);
      try {
        await this.#json({
          method: 'PATCH',
          path,
          query: { fieldManager: this.#fieldManager },
          // null, not [], so that no empty list is left behind.
          body: { metadata: { resourceVersion, finalizers: finalizers.length === 0 ? null : finalizers } },
          contentType: mergePatch,
        });
        return;
      } catch (error) {
        if (statusCodeOf(error) !== 409 || attempt >= finalizerAttempts) throw error;
      }
    }
  }

  async #objectPath(ref: ObjectRef): Promise<string> {
    const { plural, namespaced } = await this.#resource(ref.apiVersion, ref.kind);
    return `${collectionPath(ref.apiVersion, plural, namespaced ? requireNamespace(ref) : undefined)}/${encodeURIComponent(ref.name)}`;
  }

  /** The resource (plural) and scope of a kind, from API discovery. Throws when the API server does not serve the kind. */
  async #resource(apiVersion: string, kind: string): Promise<{ plural: string; namespaced: boolean }> {
    const find = (resources: ApiResource[] | undefined) =>
      // Subresources (pods/status) are listed with the same kind; skip them.
      resources?.find((r) => r.kind === kind && !r.name.includes('/'));
    let found = find(this.#discovery.get(apiVersion));
    if (found === undefined) {
      const root = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
      const list = await this.#json<ApiResourceList>({ method: 'GET', path: root });
      this.#discovery.set(apiVersion, list.resources);
      found = find(list.resources);
    }
    if (found === undefined) throw new Error(`the API server does not serve kind ${kind} in ${apiVersion}`);
    return { plural: found.name, namespaced: found.namespaced };
  }
}

function refOf(object: KubeObject): ObjectRef {
  const { apiVersion, kind } = object;
  if (apiVersion === undefined || kind === undefined) {
    throw new Error(`object ${object.metadata.name} needs apiVersion and kind to be written`);
  }
  return { apiVersion, kind, namespace: object.metadata.namespace, name: object.metadata.name };
}

function requireNamespace(ref: ObjectRef): string {
  if (ref.namespace === undefined || ref.namespace === '') {
    throw new Error(`${ref.kind} ${ref.name} is namespaced, but no namespace was given`);
  }
  return ref.namespace;
}
