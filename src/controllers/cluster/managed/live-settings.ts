// Which of the user's live settings (spec.myCnf options MariaDB changes at run
// time) differ on one instance and need a SET GLOBAL. Pure: the applier
// (apply-live-settings.ts) reads the values, asks this, and writes only the
// difference, so a cluster at rest gets no write.
import { dynamicVariables, sameValue, type VariableValue } from '../../../mysql/dynamic-variables.ts';
import type { LiveSetting } from './builders/my-cnf.ts';

/** The settings in effect: the last of each name wins, as in an option file; names outside the allow-list are dropped (the builder never produces them). */
export function effectiveLiveSettings(settings: readonly LiveSetting[]): LiveSetting[] {
  const byName = new Map<string, VariableValue>();
  for (const setting of settings) {
    if (!dynamicVariables.has(setting.name)) continue;
    byName.delete(setting.name);
    byName.set(setting.name, setting.value);
  }
  return [...byName].map(([name, value]) => ({ name, value }));
}

/**
 * The settings whose value on the instance is not the wanted one. `reported`
 * holds the server's values by name; `afterSet` says what the server reported
 * right after an earlier SET GLOBAL of the same value, if there was one:
 * MariaDB rounds some values (buffer sizes to their block size), and a value
 * it rounded is as good as set — without this, every pass would set it again.
 */
export function settingsToChange(
  wanted: readonly LiveSetting[],
  reported: ReadonlyMap<string, string>,
  afterSet: (name: string, value: VariableValue) => string | undefined = () => undefined,
): LiveSetting[] {
  return effectiveLiveSettings(wanted).filter((setting) => {
    const kind = dynamicVariables.get(setting.name);
    const now = reported.get(setting.name);
    if (kind === undefined || now === undefined) return true;
    if (sameValue(kind, setting.value, now)) return false;
    return afterSet(setting.name, setting.value) !== now;
  });
}
