import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jobOutcome, parseScriptResult, type JobObject, type JobPod } from './job-status.ts';

function job(conditions: { type: string; status: string; reason?: string; message?: string }[]): JobObject {
  return { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'nightly-20261202t030000z', namespace: 'site-a' }, status: { conditions, completionTime: '2026-12-02T03:05:00Z' } };
}

function pod(name: string, finishedAt: string, message: string | undefined, exitCode = 0): JobPod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'site-a' },
    status: { containerStatuses: [{ name: 'work', state: { terminated: { exitCode, finishedAt, ...(message === undefined ? {} : { message }) } } }] },
  };
}

const completed = JSON.stringify({ result: 'Completed', id: '20261202T030000Z', sizeBytes: 1234, sha256: 'ab'.repeat(32), gtidPosition: '0-1-5', databases: ['site_a'] });

describe('jobOutcome', () => {
  it('is running until the Job has a final condition', () => {
    assert.deepEqual(jobOutcome(job([]), []), { state: 'running' });
  });

  it('reads a complete Job’s result from its pod', () => {
    const outcome = jobOutcome(job([{ type: 'Complete', status: 'True' }]), [pod('p1', '2026-12-02T03:04:00Z', completed)]);
    assert.ok(outcome.state === 'succeeded');
    assert.equal(outcome.result.sizeBytes, 1234);
  });

  it('takes the newest pod’s result of a retried Job', () => {
    const failedFirst = JSON.stringify({ result: 'Failed', reason: 'BackupFailed', message: 'store unreachable' });
    const outcome = jobOutcome(job([{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded' }]), [
      pod('p2', '2026-12-02T03:02:00Z', JSON.stringify({ result: 'Failed', reason: 'BackupFailed', message: 'second' }), 1),
      pod('p1', '2026-12-02T03:01:00Z', failedFirst, 1),
    ]);
    assert.deepEqual(outcome, { state: 'failed', reason: 'BackupFailed', message: 'second', completionTime: '2026-12-02T03:05:00Z', refused: false });
  });

  it('says why a Job failed without a result (deadline, killed pods)', () => {
    const outcome = jobOutcome(job([{ type: 'Failed', status: 'True', reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' }]), [
      pod('p1', '2026-12-02T03:01:00Z', undefined, 137),
    ]);
    assert.ok(outcome.state === 'failed');
    assert.equal(outcome.reason, 'DeadlineExceeded');
    assert.match(outcome.message, /longer than specified deadline/);
  });

  it('tells a refusal (the pod failure policy failed the Job on exit status 2) from a failure a retry may fix', () => {
    const refusedJob: JobObject = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'nightly-20261202t030000z', namespace: 'site-a' },
      status: { conditions: [{ type: 'Failed', status: 'True', reason: 'PodFailurePolicy', message: 'Container work for pod site-a/p1 failed with exit code 2 matching FailJob rule at index 0', lastTransitionTime: '2026-12-02T03:06:00Z' }] },
    };
    const refused = jobOutcome(refusedJob, [pod('p1', '2026-12-02T03:05:59Z', JSON.stringify({ result: 'Failed', reason: 'DatabaseNotFound', message: 'database x does not exist' }), 2)]);
    assert.deepEqual(refused, { state: 'failed', reason: 'DatabaseNotFound', message: 'database x does not exist', completionTime: '2026-12-02T03:06:00Z', refused: true });
    const killed = jobOutcome(job([{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }]), [pod('p1', '2026-12-02T03:01:00Z', undefined, 137)]);
    assert.ok(killed.state === 'failed');
    assert.equal(killed.refused, false);
    assert.equal(killed.reason, 'BackoffLimitExceeded');
  });

  it('never takes a complete Job without a result for a backup', () => {
    const outcome = jobOutcome(job([{ type: 'Complete', status: 'True' }]), []);
    assert.equal(outcome.state, 'failed');
  });
});

describe('parseScriptResult', () => {
  it('ignores what is not a result line', () => {
    assert.equal(parseScriptResult('OOMKilled'), undefined);
    assert.equal(parseScriptResult('{"other": 1}'), undefined);
    assert.equal(parseScriptResult(''), undefined);
    assert.equal(parseScriptResult(completed)?.gtidPosition, '0-1-5');
  });
});
