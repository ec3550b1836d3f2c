// Applies the user's live settings to the running instances of managed
// clusters: read the values in effect, SET GLOBAL only those that differ
// (live-settings.ts), remember that the instance is in line. An instance is
// looked at again when the settings change, when its pod or container is
// new (a restart reads my.cnf, which may lag behind the ConfigMap), after a
// failure, and every few minutes (a person may have changed a value by hand);
// in between it costs nothing, not even a read.
//
// What is remembered is lost with the process; a new leader reads every
// instance once more and writes nothing when all is in line.
import { createHash } from 'node:crypto';
import type { VariableValue } from '../../../mysql/dynamic-variables.ts';
import type { LiveSetting } from './builders/my-cnf.ts';
import { effectiveLiveSettings, settingsToChange } from './live-settings.ts';
import type { PodObject } from './pods.ts';
import type { InstanceAccess } from './replication/instance-access.ts';
import { onInstance } from './replication/sql-steps.ts';

/** How often an instance in line is read again, for drift. */
export const liveSettingsResyncMs = 5 * 60_000;
/** How long after a failure an instance is tried again (a value MariaDB refuses would otherwise be sent every second). */
export const liveSettingsRetryMs = 30_000;

/** One instance to bring in line: its pod (for the identity of the running server) and how to reach it. */
export interface LiveSettingsTarget {
  readonly instance: string;
  readonly pod: PodObject;
}

interface Checked {
  readonly fingerprint: string;
  readonly atMs: number;
  /** Why the last attempt failed; undefined when the instance is in line. */
  readonly error?: string;
}

/** What one pass did on one instance. */
export interface LiveSettingsResult {
  /** The settings changed with SET GLOBAL in this pass, as `name = value`. */
  readonly changed: readonly string[];
  /** Why the instance is not in line (the first failing setting and MariaDB's reason); undefined when it is. */
  readonly error?: string;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** What identifies a running server: its pod and how often its container started. */
function serverIdentity(pod: PodObject): string {
  const restarts = (pod.status?.containerStatuses ?? []).map((c) => `${c.name}:${c.restartCount}`).join(',');
  return `${pod.metadata.uid ?? pod.metadata.name}/${restarts}`;
}

export class LiveSettingsApplier {
  /** By `<key>/<instance>`: the last look at an instance. */
  readonly #checked = new Map<string, Checked>();
  /** By `<key>/<instance>/<name>=<value>`: what the server reported right after that SET GLOBAL. */
  readonly #afterSet = new Map<string, string>();

  /**
   * Brings each target of cluster `key` in line with `settings`, one instance
   * after the other; a failure on one is reported and does not stop the others.
   * Results only for the targets looked at in this pass; a target skipped keeps
   * its last error (see lastError). Rejects only when `signal` aborts.
   */
  async apply(
    key: string,
    access: InstanceAccess,
    targets: readonly LiveSettingsTarget[],
    settings: readonly LiveSetting[],
    nowMs: number,
    signal: AbortSignal,
  ): Promise<Map<string, LiveSettingsResult>> {
    const wanted = effectiveLiveSettings(settings);
    const wantedPrint = createHash('sha256').update(JSON.stringify(wanted)).digest('hex');
    const results = new Map<string, LiveSettingsResult>();
    for (const { instance, pod } of targets) {
      const id = `${key}/${instance}`;
      const fingerprint = `${wantedPrint}/${serverIdentity(pod)}`;
      const last = this.#checked.get(id);
      const due =
        last === undefined ||
        last.fingerprint !== fingerprint ||
        nowMs - last.atMs >= (last.error === undefined ? liveSettingsResyncMs : liveSettingsRetryMs);
      if (!due) continue;
      if (wanted.length === 0) {
        this.#checked.set(id, { fingerprint, atMs: nowMs });
        continue;
      }
      const result = await this.#applyOne(id, access, instance, wanted, signal);
      this.#checked.set(id, { fingerprint, atMs: nowMs, ...(result.error === undefined ? {} : { error: result.error }) });
      results.set(instance, result);
    }
    return results;
  }

  /** The error of the last look at `instance` of cluster `key`, if it failed. */
  lastError(key: string, instance: string): string | undefined {
    return this.#checked.get(`${key}/${instance}`)?.error;
  }

  async #applyOne(id: string, access: InstanceAccess, instance: string, wanted: readonly LiveSetting[], signal: AbortSignal): Promise<LiveSettingsResult> {
    const names = wanted.map((s) => s.name);
    const afterSetKey = (name: string, value: VariableValue): string => `${id}/${name}=${String(value)}`;
    let reported: Map<string, string>;
    try {
      reported = await onInstance(access, instance, 'reading its server variables', (c) => c.variables.globalValues(names), signal);
    } catch (error) {
      if (signal.aborted) throw error;
      return { changed: [], error: errorMessage(error) };
    }
    const toChange = settingsToChange(wanted, reported, (name, value) => this.#afterSet.get(afterSetKey(name, value)));
    const changed: string[] = [];
    for (const setting of toChange) {
      try {
        await onInstance(access, instance, `setting ${setting.name}`, (c) => c.variables.setGlobal(setting.name, setting.value), signal);
        changed.push(`${setting.name} = ${String(setting.value)}`);
      } catch (error) {
        if (signal.aborted) throw error;
        return { changed, error: `${setting.name} = ${String(setting.value)}: ${errorMessage(error)}` };
      }
    }
    if (changed.length > 0) {
      try {
        const after = await onInstance(access, instance, 'reading its server variables', (c) => c.variables.globalValues(toChange.map((s) => s.name)), signal);
        for (const setting of toChange) {
          const value = after.get(setting.name);
          if (value !== undefined) this.#afterSet.set(afterSetKey(setting.name, setting.value), value);
        }
      } catch (error) {
        if (signal.aborted) throw error;
        // The values are set; without the read-back, the next look compares afresh (at worst one more SET).
        return { changed, error: `read back after setting: ${errorMessage(error)}` };
      }
    }
    return { changed };
  }

  /** A cluster was deleted: drop what is remembered of it. */
  forget(key: string): void {
    for (const map of [this.#checked, this.#afterSet]) for (const id of [...map.keys()]) if (id.startsWith(`${key}/`)) map.delete(id);
  }
}
