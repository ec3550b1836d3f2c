// Each node's kubelet keeps its pods under a cgroup of its own
// (`cgroupRoot: /<netns name>`), in every cgroup v1 hierarchy of this
// machine, so that several kubelets share the machine without touching each
// other's pods, and teardown can find every process a node started.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const cgroupMount = '/sys/fs/cgroup';

/**
 * The mounted hierarchies: cpu, memory, pids, … and the unified one on this
 * machine's cgroup v1 (hybrid) layout, or the single unified hierarchy of a
 * cgroup v2 machine.
 */
function hierarchies(): string[] {
  if (existsSync(join(cgroupMount, 'cgroup.procs'))) return [cgroupMount];
  return readdirSync(cgroupMount)
    .map((name) => join(cgroupMount, name))
    .filter((path) => statSync(path).isDirectory() && existsSync(join(path, 'cgroup.procs')));
}

/**
 * Creates `/<name>` in every hierarchy; the kubelet requires its cgroupRoot to
 * exist. The cpuset hierarchy leaves a new cgroup's CPUs and memory nodes
 * empty, which would forbid every process in it: they are copied from the root.
 */
export function createNodeCgroup(name: string): void {
  for (const hierarchy of hierarchies()) {
    const path = join(hierarchy, name);
    mkdirSync(path, { recursive: true });
    for (const file of ['cpuset.cpus', 'cpuset.mems']) {
      if (existsSync(join(path, file)) && readFileSync(join(path, file), 'utf8').trim() === '') {
        writeFileSync(join(path, file), readFileSync(join(hierarchy, file), 'utf8'));
      }
    }
  }
}

/** Every cgroup directory at or below `path`, deepest first. */
function subtree(path: string): string[] {
  if (!existsSync(path)) return [];
  const children = readdirSync(path, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .flatMap((e) => subtree(join(path, e.name)));
  return [...children, path];
}

/** Pids of the processes in `/<name>` and below, in any hierarchy. */
export function processesInNodeCgroup(name: string): number[] {
  const pids = new Set<number>();
  for (const hierarchy of hierarchies()) {
    for (const dir of subtree(join(hierarchy, name))) {
      for (const line of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n')) {
        if (line !== '') pids.add(Number(line));
      }
    }
  }
  return [...pids];
}

/**
 * Kills the processes left in the node's cgroups (containers whose shim did
 * not stop them) and removes the cgroups. Returns the pids it had to kill.
 */
export async function removeNodeCgroup(name: string): Promise<number[]> {
  const killed: number[] = [];
  for (let attempt = 0; attempt < 50; attempt++) {
    const pids = processesInNodeCgroup(name);
    if (pids.length === 0) break;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
        if (!killed.includes(pid)) killed.push(pid);
      } catch {
        // Exited meanwhile.
      }
    }
    await sleep(100);
  }
  for (const hierarchy of hierarchies()) {
    for (const dir of subtree(join(hierarchy, name))) {
      try {
        rmdirSync(dir);
      } catch (error) {
        throw new Error(`could not remove cgroup ${dir}: ${(error as Error).message}`, { cause: error });
      }
    }
  }
  return killed;
}
