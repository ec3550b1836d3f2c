// The result line of flightdeck-backup files-backup and files-restore, read
// from the pod's termination message: the fields of a ScriptResult that files
// add, checked one by one, since a pod could write anything there.
import type { ScriptResult } from '../backup/job-status.ts';

export interface FilesResult {
  readonly sizeBytes?: number;
  readonly sha256?: string;
  readonly fileCount?: number;
  readonly contentBytes?: number;
  readonly contentSha256?: string;
  readonly verified?: boolean;
  readonly warning?: string;
}

const count = (value: unknown): number | undefined => (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined);
const hash = (value: unknown): string | undefined => (typeof value === 'string' && /^[0-9a-f]{64}$/.test(value) ? value : undefined);

/** The files fields of a completed result; a field that is missing or malformed is left out, never guessed. */
export function filesResultOf(result: ScriptResult): FilesResult {
  const raw = result as unknown as Record<string, unknown>;
  const fields: Record<string, unknown> = {
    sizeBytes: count(raw.sizeBytes),
    sha256: hash(raw.sha256),
    fileCount: count(raw.fileCount),
    contentBytes: count(raw.contentBytes),
    contentSha256: hash(raw.contentSha256),
    verified: typeof raw.verified === 'boolean' ? raw.verified : undefined,
    warning: typeof raw.warning === 'string' ? raw.warning.slice(0, 2000) : undefined,
  };
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
}
