// Seeding and rebuilding instances through their pods: naming the donor a
// waiting seed init container copies from (a pod annotation it reads through
// the downward API), and restarting an instance with its data directory
// marked to be discarded (its donor endpoint's `rebuild` command, then the
// pod deleted; the StatefulSet creates it again and its seed init container
// starts from an empty directory).
import type { KubeClient } from '../../../runtime/kube.ts';
import { donorContainer, seedDonorAnnotation } from './builders/seed.ts';
import type { PodObject } from './pods.ts';
import { sendDonorCommand } from './replication/donor-client.ts';

/** What act() asks of the cluster to seed or rebuild an instance. */
export interface SeedControl {
  /** Names `donor` in `instance`'s pod annotation, where its waiting seed init container reads it. */
  offerDonor(instance: string, donor: string, signal: AbortSignal): Promise<void>;
  /**
   * Marks `instance`'s data directory to be discarded at its next start
   * (through its donor endpoint), then deletes its pod. Rejects, deleting
   * nothing, when the mark could not be made.
   */
  discardAndRestart(instance: string, signal: AbortSignal): Promise<void>;
}

/** The field manager of the donor annotation: apart from the role labels' manager, so applying one never drops the other. */
export const seedFieldManager = 'flightdeck-operator-seed';

export class PodSeeding implements SeedControl {
  readonly #namespace: string;
  readonly #pods: () => readonly PodObject[];
  readonly #kube: KubeClient;
  readonly #secret: string;

  /** `secret`: the cluster's replication password, which the donor endpoints check. */
  constructor(options: { namespace: string; pods: () => readonly PodObject[]; kube: KubeClient; secret: string }) {
    this.#namespace = options.namespace;
    this.#pods = options.pods;
    this.#kube = options.kube.withFieldManager(seedFieldManager);
    this.#secret = options.secret;
  }

  async offerDonor(instance: string, donor: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    await this.#kube.apply({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: instance, namespace: this.#namespace, annotations: { [seedDonorAnnotation]: donor } },
    });
  }

  async discardAndRestart(instance: string, signal: AbortSignal): Promise<void> {
    const ip = this.#pods().find((p) => p.metadata.name === instance)?.status?.podIP;
    if (ip === undefined || ip === '') throw new Error(`${instance}: its pod has no address; its data cannot be marked to be discarded`);
    await sendDonorCommand(ip, donorContainer.port, this.#secret, 'rebuild', signal);
    await this.#kube.delete({ apiVersion: 'v1', kind: 'Pod', namespace: this.#namespace, name: instance });
  }
}
