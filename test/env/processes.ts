// Starting and stopping the long-running programs of the test environment
// (etcd, kube-apiserver, mariadbd, the operator). Each runs in its own process
// group with its output in a log file, so it can outlive the command that
// started it (`flightdeck dev up`) and be stopped with everything it spawned.
import { spawn } from 'node:child_process';
import { openSync, closeSync, readFileSync, existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export interface StartedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
}

export interface StartOptions {
  name: string;
  command: string;
  args: readonly string[];
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** Starts a detached program whose stdout and stderr go to `logFile`. */
export function startProcess(options: StartOptions): StartedProcess {
  const log = openSync(options.logFile, 'a');
  try {
    const child = spawn(options.command, options.args, {
      detached: true,
      stdio: ['ignore', log, log],
      env: options.env ?? process.env,
      cwd: options.cwd,
    });
    if (child.pid === undefined) throw new Error(`could not start ${options.name} (${options.command})`);
    child.on('error', () => {
      // The exit is noticed by isAlive/waitUntil; the log file holds the cause.
    });
    child.unref();
    return { name: options.name, pid: child.pid, logFile: options.logFile };
  } finally {
    closeSync(log);
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie (exited, not yet reaped by us) still answers signal 0.
  const statusFile = `/proc/${pid}/stat`;
  if (!existsSync(statusFile)) return false;
  const state = readFileSync(statusFile, 'utf8').split(') ')[1]?.charAt(0);
  return state !== 'Z';
}

/** Last lines of a log file, for error messages. */
export function tail(logFile: string, lines = 20): string {
  if (!existsSync(logFile)) return '(no log)';
  return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

/**
 * Polls `check` until it returns true. Fails early when `process` has exited,
 * with the end of its log in the error, and after `timeoutMs`.
 */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  options: { timeoutMs: number; process?: StartedProcess; intervalMs?: number },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    if (options.process !== undefined && !isAlive(options.process.pid)) {
      throw new Error(`${options.process.name} exited while waiting for ${what}:\n${tail(options.process.logFile)}`);
    }
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) {
      const log = options.process === undefined ? '' : `\n${tail(options.process.logFile)}`;
      throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${what}${log}`);
    }
    await sleep(options.intervalMs ?? 100);
  }
}

/** Sends SIGTERM to the process group, then SIGKILL after `graceMs`. */
export async function stopProcess(pid: number, graceMs = 10_000): Promise<void> {
  const signalGroup = (signal: NodeJS.Signals): boolean => {
    try {
      process.kill(-pid, signal);
      return true;
    } catch {
      return false;
    }
  };
  if (!signalGroup('SIGTERM')) return;
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(50);
  if (isAlive(pid)) signalGroup('SIGKILL');
  while (isAlive(pid)) await sleep(20);
}
