import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ExecCredentialPlugin, type ExecConfig } from './exec-credential.ts';

const dir = mkdtempSync(join(tmpdir(), 'flightdeck-exec-'));
after(() => {
  rmSync(dir, { recursive: true, force: true });
});
let scripts = 0;

/**
 * A plugin that appends a line to its run log and prints `stdout` (a shell
 * printf format; %d is the run number). Returns the plugin and the log path.
 */
function plugin(stdout: string, extra = ''): { exec: ExecConfig; runs: () => number } {
  const n = ++scripts;
  const path = join(dir, `plugin-${n}`);
  const log = join(dir, `runs-${n}`);
  writeFileSync(log, '');
  writeFileSync(path, `#!/bin/sh\necho run >> "${log}"\nrun=$(wc -l < "${log}")\n${extra}\nprintf '${stdout}' "$run"\n`);
  chmodSync(path, 0o755);
  return {
    exec: { apiVersion: 'client.authentication.k8s.io/v1beta1', command: path, args: [], env: [], provideClusterInfo: false },
    runs: () => readFileSync(log, 'utf8').split('\n').filter((line) => line !== '').length,
  };
}

const credential = (status: string): string => `{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":${status}}`;
const env = { PATH: process.env.PATH };

describe('ExecCredentialPlugin', () => {
  it('uses the token until its expirationTimestamp, then runs the plugin again', async () => {
    const { exec, runs } = plugin(credential('{"token":"token-%d","expirationTimestamp":"2030-01-01T00:00:00Z"}'));
    let now = Date.parse('2029-12-31T23:59:00Z');
    const source = new ExecCredentialPlugin({ exec, user: 'dev', env, now: () => now });
    assert.deepEqual(await source.get(), { token: 'token-1' });
    assert.deepEqual(await source.get(), { token: 'token-1' });
    assert.equal(runs(), 1);
    now = Date.parse('2030-01-01T00:00:00Z');
    assert.deepEqual(await source.get(), { token: 'token-2' });
    assert.equal(runs(), 2);
  });

  it('keeps a credential without expiry until invalidated, and runs once for concurrent callers', async () => {
    const { exec, runs } = plugin(credential('{"token":"token-%d"}'));
    const source = new ExecCredentialPlugin({ exec, user: 'dev', env });
    const answers = await Promise.all([source.get(), source.get(), source.get()]);
    assert.deepEqual(answers, [{ token: 'token-1' }, { token: 'token-1' }, { token: 'token-1' }]);
    assert.equal(runs(), 1);
    source.invalidate();
    assert.deepEqual(await source.get(), { token: 'token-2' });
  });

  it('hands over a client certificate and key', async () => {
    const { exec } = plugin(credential('{"clientCertificateData":"CERT-%d","clientKeyData":"KEY"}'));
    const source = new ExecCredentialPlugin({ exec, user: 'dev', env });
    assert.deepEqual(await source.get(), { clientCertificate: { certPem: 'CERT-1', keyPem: 'KEY' } });
  });

  it('reports a failing plugin with its stderr, and runs it again next time', async () => {
    const { exec, runs } = plugin('', 'echo "token expired; run: cloud login" >&2; exit 3');
    const source = new ExecCredentialPlugin({ exec, user: 'dev', env });
    await assert.rejects(source.get(), /exec plugin ".*plugin-\d+" of kubeconfig user "dev" exited with status 3: token expired; run: cloud login/);
    await assert.rejects(source.get());
    assert.equal(runs(), 2);
  });

  it('never quotes what the plugin printed when that is unusable', async () => {
    const cases: [string, RegExp][] = [
      ['sekret-not-json-%d', /printed 17 characters that are not JSON/],
      ['{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"sekret-%d"}}', /answered in "client.authentication.k8s.io\/v1", but the kubeconfig asks for .*v1beta1/],
      [credential('{"clientCertificateData":"sekret-%d"}'), /only one of status.clientCertificateData and status.clientKeyData/],
      [credential('{"token":"sekret-%d","expirationTimestamp":"soon"}'), /expirationTimestamp "soon", which is not a time/],
      [credential('{}'), /neither status.token nor status.clientCertificateData/],
    ];
    for (const [stdout, message] of cases) {
      const source = new ExecCredentialPlugin({ exec: plugin(stdout).exec, user: 'dev', env });
      await assert.rejects(source.get(), (error: Error) => {
        assert.match(error.message, message);
        assert.doesNotMatch(error.message, /sekret/);
        return true;
      });
    }
  });

  it('names a missing program and shows its install hint', async () => {
    const exec: ExecConfig = {
      apiVersion: 'client.authentication.k8s.io/v1',
      command: join(dir, 'no-such-plugin'),
      args: [],
      env: [],
      installHint: 'Install it with: apt-get install no-such-plugin',
      provideClusterInfo: false,
    };
    await assert.rejects(
      new ExecCredentialPlugin({ exec, user: 'dev', env }).get(),
      /could not be started: spawn .*no-such-plugin ENOENT\nInstall it with: apt-get install no-such-plugin/,
    );
  });

  it('kills a plugin that hangs', async () => {
    const { exec } = plugin(credential('{"token":"t"}'), 'sleep 5');
    await assert.rejects(new ExecCredentialPlugin({ exec, user: 'dev', env, timeoutMs: 200 }).get(), /did not finish within 200 ms and was killed/);
  });
});
