import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseScriptResult } from './job-status.ts';
import { pruneReportOf } from './prune-report.ts';

const reportOf = (line: string): ReturnType<typeof pruneReportOf> => pruneReportOf(parseScriptResult(line));

describe('pruneReportOf', () => {
  it('reads the runs a Job pruned and why it stopped', () => {
    assert.deepEqual(reportOf('{"result":"Completed","pruned":["20261125T030000Z","20261126T030000Z"]}'), { pruned: ['20261125T030000Z', '20261126T030000Z'] });
    assert.deepEqual(reportOf('{"result":"Completed","pruned":["20261125T030000Z"],"pruneError":"deleting 20261126T030000Z: permission denied"}'), {
      pruned: ['20261125T030000Z'],
      error: 'deleting 20261126T030000Z: permission denied',
    });
  });

  it('says nothing when the result says nothing of pruning', () => {
    assert.equal(reportOf('{"result":"Completed","sizeBytes":12}'), undefined);
    assert.equal(pruneReportOf(undefined), undefined);
  });

  it('counts only ids of a run’s shape as pruned, and bounds the error', () => {
    assert.deepEqual(reportOf('{"result":"Completed","pruned":["../x","20261125T030000Z",7,null],"pruneError":""}'), { pruned: ['20261125T030000Z'] });
    assert.deepEqual(reportOf('{"result":"Completed","pruned":"20261125T030000Z"}'), { pruned: [] });
    assert.equal(reportOf(JSON.stringify({ result: 'Completed', pruneError: 'x'.repeat(5000) }))?.error?.length, 1000);
  });
});
