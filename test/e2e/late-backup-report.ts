// What an e2e test says about a MySQLBackup whose run started later than it
// should have: a bare "started after" leaves the cause to a rerun, and the
// queue's failures have shown only at load (one run in many). Everything
// here is what a user would look at: the backup's Events and conditions, and
// the operator's log lines that name it, with the operator pods' restarts
// (a new leader rebuilds the queue from scratch).
import { kubectlResult, type KubectlTarget } from '../env/kubectl.ts';
import { operatorDeployment, operatorNamespace } from '../env/managed-cluster.ts';

interface EventObject {
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
  firstTimestamp?: string;
  lastTimestamp?: string;
  eventTime?: string;
}

interface OperatorPod {
  metadata: { name: string; creationTimestamp?: string };
  status?: { containerStatuses?: { restartCount?: number; lastState?: { terminated?: { reason?: string; finishedAt?: string } } }[] };
}

/** Operator log lines that may matter to the queue whatever backup they name: leadership and start-up. */
const leadershipLine = /lease|leader|controller started|caches synced|deposed|shutting down/i;

/** Most log lines quoted per source, newest kept: a failing reconcile logs on every retry. */
const maxLines = 40;

function lastLines(lines: readonly string[]): string[] {
  return lines.length <= maxLines ? [...lines] : [`… ${lines.length - maxLines} earlier lines left out`, ...lines.slice(-maxLines)];
}

function events(target: KubectlTarget, namespace: string, name: string): string[] {
  const result = kubectlResult(target, ['get', 'events', '-n', namespace, '--field-selector', `involvedObject.name=${name}`, '-o', 'json']);
  if (result.status !== 0) return [`(kubectl get events failed: ${result.stderr.trim()})`];
  const items = (JSON.parse(result.stdout) as { items: EventObject[] }).items;
  const when = (e: EventObject): string => e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? '';
  return items
    .sort((a, b) => (when(a) < when(b) ? -1 : when(a) > when(b) ? 1 : 0))
    .map((e) => `${when(e)} ${e.type ?? ''} ${e.reason ?? ''}${(e.count ?? 1) > 1 ? ` (×${e.count})` : ''}: ${e.message ?? ''}`);
}

function conditions(target: KubectlTarget, namespace: string, name: string): string {
  const result = kubectlResult(target, ['get', 'mysqlbackup', name, '-n', namespace, '-o', 'jsonpath={.status}']);
  return result.status === 0 ? result.stdout : `(kubectl get mysqlbackup failed: ${result.stderr.trim()})`;
}

function operatorPods(target: KubectlTarget): OperatorPod[] {
  const result = kubectlResult(target, ['get', 'pods', '-n', operatorNamespace, '-o', 'json']);
  if (result.status !== 0) return [];
  return (JSON.parse(result.stdout) as { items: OperatorPod[] }).items.filter((p) => p.metadata.name.startsWith(operatorDeployment));
}

/** Lines of one operator container's log (`previous`: the one before its last restart) that name `name` or tell of leadership. */
function operatorLog(target: KubectlTarget, pod: string, name: string, previous: boolean): string[] {
  const result = kubectlResult(target, ['logs', '-n', operatorNamespace, pod, ...(previous ? ['--previous'] : [])]);
  if (result.status !== 0) return [`(kubectl logs ${pod}${previous ? ' --previous' : ''} failed: ${result.stderr.trim()})`];
  return lastLines(result.stdout.split('\n').filter((line) => line.includes(name) || leadershipLine.test(line)));
}

/** A report on backup `name` in `namespace`, for an assertion's message. */
export function lateBackupReport(target: KubectlTarget, namespace: string, name: string): string {
  const sections = [`MySQLBackup ${namespace}/${name} status: ${conditions(target, namespace, name)}`];
  const told = events(target, namespace, name);
  sections.push(`its Events:\n  ${told.length === 0 ? '(none)' : told.join('\n  ')}`);
  const deployment = kubectlResult(target, ['logs', '-n', operatorNamespace, `deployment/${operatorDeployment}`]);
  const current = deployment.status === 0 ? lastLines(deployment.stdout.split('\n').filter((line) => line.includes(name) || leadershipLine.test(line))) : [`(failed: ${deployment.stderr.trim()})`];
  sections.push(`operator log (deployment/${operatorDeployment}), lines naming ${name} or leadership:\n  ${current.length === 0 ? '(none)' : current.join('\n  ')}`);
  for (const pod of operatorPods(target)) {
    const status = pod.status?.containerStatuses?.[0];
    const restarts = status?.restartCount ?? 0;
    const last = status?.lastState?.terminated;
    sections.push(`operator pod ${pod.metadata.name}: created ${pod.metadata.creationTimestamp ?? '?'}, ${restarts} restarts${last === undefined ? '' : ` (last ended ${last.finishedAt ?? '?'}: ${last.reason ?? '?'})`}`);
    if (restarts > 0) sections.push(`  its log before the restart:\n  ${operatorLog(target, pod.metadata.name, name, true).join('\n  ')}`);
  }
  return sections.join('\n');
}
