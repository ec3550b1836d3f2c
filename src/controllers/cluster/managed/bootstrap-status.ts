// What the Ready condition says while a cluster bootstrapped from a backup
// (spec.bootstrapFrom) has no writer yet and its first instance's seed init
// container failed: the reason the backup was refused or could not be used
// (no such run, not a physical backup, a checksum that is not the
// manifest's, a missing key), read from the container's termination message,
// where flightdeck-backup leaves its result line. Nothing has been started
// then (mariadbd runs only after the init container succeeds), and the
// kubelet runs the init container again with its back-off.
import type { ManagedServers } from '../../../api/normalize.ts';
import type { Readiness } from '../../status.ts';
import { seedContainerName } from './builders/seed.ts';
import type { PodObject } from './pods.ts';

interface Terminated {
  readonly exitCode: number;
  readonly message?: string;
}

function failedSeed(pod: PodObject): Terminated | undefined {
  const seed = pod.status?.initContainerStatuses?.find((s) => s.name === seedContainerName);
  // The cached pod is the API's: its termination message is there, though PodObject does not declare it.
  const terminated: Terminated | undefined = seed?.state?.terminated ?? seed?.lastState?.terminated;
  return terminated !== undefined && terminated.exitCode !== 0 ? terminated : undefined;
}

/** The result line's reason and message, or the raw text when it is none. */
function describe(message: string | undefined): string {
  if (message === undefined || message.trim() === '') return 'its seed init container failed without a message (see its log)';
  try {
    const parsed = JSON.parse(message) as { reason?: unknown; message?: unknown };
    if (typeof parsed.reason === 'string' && typeof parsed.message === 'string') return `${parsed.reason}: ${parsed.message}`;
  } catch {
    // Not a result line (the script failed before it could write one): shown as it is.
  }
  return message.trim().slice(0, 1024);
}

/**
 * Ready=False with reason BootstrapFailed when `managed` bootstraps from a
 * backup, no writer was ever recorded, and `first` (instance 0's pod) has a
 * failed seed init container; undefined otherwise.
 */
export function bootstrapFailure(managed: ManagedServers, currentPrimary: string | undefined, first: PodObject | undefined): Readiness | undefined {
  const bootstrap = managed.bootstrapFrom;
  if (bootstrap === undefined || currentPrimary !== undefined || first === undefined) return undefined;
  const failed = failedSeed(first);
  if (failed === undefined) return undefined;
  return {
    ready: false,
    reason: 'BootstrapFailed',
    message: `${first.metadata.name} could not be bootstrapped from the backup at ${bootstrap.path}: ${describe(failed.message)}. Nothing was started; it is tried again with back-off (spec.bootstrapFrom cannot change: delete and re-create the cluster to use another backup)`,
  };
}
