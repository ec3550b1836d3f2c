import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { EventRecorder, continuesSeries, eventKey, eventName, seriesWindowMs, type EventSubject } from './events.ts';
import { kubeAccess, staticCredentials } from './kube-access.ts';

const db = (uid?: string, name = 'site'): EventSubject => ({
  apiVersion: 'flightdeck.t7.io/v1',
  kind: 'MySQLDatabase',
  metadata: { name, namespace: 'shop', ...(uid === undefined ? {} : { uid }) },
});

describe('eventKey', () => {
  it('is the same for the same object, type, reason and message', () => {
    assert.equal(eventKey(db('u1'), 'Warning', 'Failed', 'boom'), eventKey(db('u1'), 'Warning', 'Failed', 'boom'));
  });

  it('differs when any of them differs', () => {
    const base = eventKey(db('u1'), 'Warning', 'Failed', 'boom');
    for (const other of [
      eventKey(db('u2'), 'Warning', 'Failed', 'boom'),
      eventKey(db('u1'), 'Normal', 'Failed', 'boom'),
      eventKey(db('u1'), 'Warning', 'Other', 'boom'),
      eventKey(db('u1'), 'Warning', 'Failed', 'bang'),
    ]) {
      assert.notEqual(other, base);
    }
  });

  it('tells a recreated object (new uid) from the old one, and uses the name when there is no uid', () => {
    assert.notEqual(eventKey(db('old'), 'Normal', 'R', 'm'), eventKey(db('new'), 'Normal', 'R', 'm'));
    assert.equal(eventKey(db(), 'Normal', 'R', 'm'), eventKey(db(), 'Normal', 'R', 'm'));
    assert.notEqual(eventKey(db(undefined, 'a'), 'Normal', 'R', 'm'), eventKey(db(undefined, 'b'), 'Normal', 'R', 'm'));
  });

  it('cannot be confused by separators inside the parts', () => {
    assert.notEqual(eventKey(db('u'), 'Normal', 'a', 'b c'), eventKey(db('u'), 'Normal', 'a b', 'c'));
  });
});

describe('continuesSeries', () => {
  const last = new Date('2026-01-01T00:00:00Z');
  const series = { namespace: 'shop', name: 'site.1', count: 2, lastTime: last };

  it('continues within ten minutes of the last repeat', () => {
    assert.equal(continuesSeries(series, new Date(last.getTime() + seriesWindowMs - 1)), true);
    assert.equal(continuesSeries(series, last), true);
  });

  it('starts anew at ten minutes, without a series, or when the clock went back', () => {
    assert.equal(continuesSeries(series, new Date(last.getTime() + seriesWindowMs)), false);
    assert.equal(continuesSeries(undefined, last), false);
    assert.equal(continuesSeries(series, new Date(last.getTime() - 1)), false);
  });
});

describe('eventName', () => {
  it('is the object name and a hex time, unique per sequence number', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    const a = eventName('site', now, 0);
    const b = eventName('site', now, 1);
    assert.match(a, /^site\.[0-9a-f]+$/);
    assert.notEqual(a, b);
  });

  it('stays within the 253 characters of an object name', () => {
    const name = eventName('x'.repeat(253), new Date(), 7);
    assert.ok(name.length <= 253);
    assert.match(name, /^x+\.[0-9a-f]+$/);
  });
});

describe('EventRecorder', () => {
  it('writes every event, but never more than two at once', async () => {
    let inFlight = 0;
    let most = 0;
    const reasons: string[] = [];
    const server = createServer((req, res) => {
      inFlight++;
      most = Math.max(most, inFlight);
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        reasons.push((JSON.parse(Buffer.concat(chunks).toString()) as { reason: string }).reason);
        setTimeout(() => {
          inFlight--;
          res.writeHead(201, { 'Content-Type': 'application/json' }).end('{}');
        }, 5);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const access = kubeAccess({ server: `http://127.0.0.1:${port}`, source: 'test', credentials: staticCredentials({}) });
      const pending: number[] = [];
      const recorder = new EventRecorder({
        kubeConfig: access,
        component: 'test',
        logger: pino({ level: 'silent' }),
        observer: { onPending: (n) => pending.push(n), onDropped: () => assert.fail('nothing is dropped below the limit') },
      });
      const sent = Array.from({ length: 20 }, (_, i) => `Reason${i}`);
      for (const reason of sent) recorder.record(db('uid-1'), 'Normal', reason, 'a message');
      assert.equal(Math.max(...pending), 20, 'all twenty wait at first');
      await recorder.flush();
      assert.deepEqual([...reasons].sort(), [...sent].sort());
      assert.equal(most, 2);
      assert.equal(pending.at(-1), 0, 'none waits once flushed');
    } finally {
      server.close();
    }
  });
});
