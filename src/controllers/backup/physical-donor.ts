// Which instance a physical backup copies: the rule the managed reconciler
// follows when it names a seed donor (src/replication/decide.ts,
// maintainReplicas) — the most advanced healthy reader, so that the writer
// is spared the copy's reads; the writer only when no reader is healthy.
// The backup controller does not observe the servers itself; it reads the
// verdicts the managed reconciler records in MySQLCluster.status: an
// instance status that is ready has no problem and both replication threads
// running within the lag limit, which is what "healthy" means there.
import type { MySQLClusterStatus } from '../../api/mysqlcluster.ts';
import { mostAdvanced, parseGtidPosition, type GtidPosition } from '../../replication/gtid.ts';

export interface PhysicalDonor {
  /** The instance's pod name. */
  readonly instance: string;
  readonly role: 'reader' | 'writer';
  /** Why this one, as status.lastRun.message says it. */
  readonly reason: string;
}

type InstanceStatus = NonNullable<MySQLClusterStatus['instanceStatuses']>[number];

interface Candidate {
  readonly instance: InstanceStatus;
  readonly position: GtidPosition;
}

function healthyReader(instance: InstanceStatus): boolean {
  return instance.role === 'Reader' && instance.ready === true && (instance.problem ?? '') === '' && instance.ioThreadRunning !== false && instance.sqlThreadRunning !== false;
}

/** The donor of a physical backup, or why there is none (a cluster without a writer yet). */
export function physicalBackupDonor(status: MySQLClusterStatus | undefined): PhysicalDonor | { readonly problem: string } {
  const instances = status?.instanceStatuses ?? [];
  const candidates: Candidate[] = [];
  for (const instance of instances.filter(healthyReader)) {
    try {
      candidates.push({ instance, position: parseGtidPosition(instance.gtidPosition ?? '') });
    } catch {
      // A position the status cannot show is no position to compare: not a candidate.
      continue;
    }
  }
  const best = mostAdvanced(candidates, (c) => c.position, (a, b) => (a.instance.index ?? 0) - (b.instance.index ?? 0) || (a.instance.name < b.instance.name ? -1 : 1));
  if (best.kind === 'found') {
    const others = candidates.length - 1;
    return {
      instance: best.best.instance.name,
      role: 'reader',
      reason: `copied from reader ${best.best.instance.name}, the most advanced healthy reader${others > 0 ? ` of ${candidates.length}` : ''}`,
    };
  }
  const writer = status?.currentPrimary;
  if (writer === undefined || writer === '') return { problem: 'the cluster has no writer yet' };
  const why = best.kind === 'diverged' ? `the healthy readers ${best.first.instance.name} and ${best.second.instance.name} have diverged` : 'no reader is healthy';
  return { instance: writer, role: 'writer', reason: `copied from the writer ${writer}: ${why}` };
}
