// The operator of a process cluster as a process of its own, for tests that
// kill it mid-operation: `node process-cluster-operator.ts <cluster dir>`
// ticks every 200 ms (observe, decide, act: test/env/process-cluster.ts),
// reading the cluster's description again before each tick (spec edits,
// restarted members), with the status in the cluster's status file and the
// writer endpoint in its writer file. One line per tick goes to stdout.
//
// FLIGHTDECK_CRASH_AT=<Type>:<step> (e.g. Switchover:promoteTarget): the
// process SIGKILLs itself right after the record of that step is persisted,
// before the step acts — the moment a resuming operator must handle.
// SIGTERM stops it cleanly.
import { setTimeout as sleep } from 'node:timers/promises';
import { loadDescription } from './process-cluster-members.ts';
import { describeTick, ProcessCluster, tickIntervalMs } from './process-cluster.ts';

async function main(dir: string | undefined, crashAt: string | undefined): Promise<void> {
  if (dir === undefined) throw new Error('usage: process-cluster-operator.ts <cluster dir>');
  const cluster = new ProcessCluster(loadDescription(dir), {
    afterPersist: (operation) => {
      if (crashAt === `${operation.type}:${operation.step}`) {
        process.stdout.write(`crashing after persisting ${crashAt}\n`);
        process.kill(process.pid, 'SIGKILL');
      }
    },
    onTick: (record) => {
      process.stdout.write(`${describeTick(record)}\n`);
    },
  });
  const stopping = new AbortController();
  let reconcile = new AbortController();
  process.once('SIGTERM', () => {
    stopping.abort();
    reconcile.abort(new Error('SIGTERM'));
  });
  while (!stopping.signal.aborted) {
    reconcile = new AbortController();
    try {
      cluster.reload();
      await cluster.tick(reconcile.signal);
    } catch (error) {
      if (!reconcile.signal.aborted) throw error;
    }
    await sleep(tickIntervalMs);
  }
  await cluster.close();
}

main(process.argv[2], process.env.FLIGHTDECK_CRASH_AT).catch((error: unknown) => {
  process.stderr.write(`process-cluster-operator: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
