import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseScriptResult } from '../backup/job-status.ts';
import { filesResultOf } from './files-result.ts';

describe('the result line of a files Job', () => {
  it('gives the files facts of a backup and of a restore', () => {
    const backup = parseScriptResult(JSON.stringify({ result: 'Completed', id: '20261202T030000Z', sizeBytes: 10, sha256: 'a'.repeat(64), fileCount: 3, contentBytes: 20, contentSha256: 'b'.repeat(64) }));
    assert.ok(backup !== undefined);
    assert.deepEqual(filesResultOf(backup), { sizeBytes: 10, sha256: 'a'.repeat(64), fileCount: 3, contentBytes: 20, contentSha256: 'b'.repeat(64) });
    const restore = parseScriptResult(JSON.stringify({ result: 'Completed', fileCount: 0, contentBytes: 0, contentSha256: 'c'.repeat(64), verified: false, warning: 'changed' }));
    assert.ok(restore !== undefined);
    assert.deepEqual(filesResultOf(restore), { fileCount: 0, contentBytes: 0, contentSha256: 'c'.repeat(64), verified: false, warning: 'changed' });
  });

  it('leaves out what is malformed rather than guessing', () => {
    const odd = parseScriptResult(JSON.stringify({ result: 'Completed', sizeBytes: -1, sha256: 'XYZ', fileCount: 1.5, contentBytes: '7', contentSha256: null, verified: 'yes' }));
    assert.ok(odd !== undefined);
    assert.deepEqual(filesResultOf(odd), {});
  });
});
