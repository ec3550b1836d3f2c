// Ownership records on a real MariaDB 10.11: claims are atomic across
// clients, a second owner sees the first, a restored object (same
// namespace/name, new uid) takes its record back, and reads never write.
//
// Most tests share the environment's second server; the ones that watch the
// bookkeeping table being created, or drop it, get a server of their own so
// that no other test file is disturbed.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MySQLClient, type Owner } from '../../src/mysql/client.ts';
import { startMariaDB, stopMariaDB, type MariaDBInstance } from '../env/mariadb.ts';
import { RecordingClient, adminConnection, adminOptions, uniqueName, recordingFixture } from './mysql-support.ts';

const { server, recording } = await recordingFixture(1);

const owner = (name: string, uid: string, namespace = 'team-a'): Owner => ({ namespace, name, uid });

async function recordedRows(kind: string, key: string, on = server): Promise<{ namespace: string; name: string; uid: string }[]> {
  const conn = await adminConnection(on);
  try {
    return await conn.query('SELECT namespace, name, uid FROM flightdeck_meta.owners WHERE kind = ? AND `key` = ?', [kind, key]);
  } finally {
    await conn.end();
  }
}

describe('MySQLClient ownership records', () => {
  it('reads without writing, even before the bookkeeping table exists', async () => {
    const fresh = new RecordingClient(adminOptions(server));
    try {
      assert.equal(await fresh.client.getOwner('database', uniqueName('nobody')), undefined);
      await fresh.client.releaseOwner('database', uniqueName('nobody'), 'uid-x');
      assert.equal(await fresh.client.transferOwner('database', uniqueName('nobody'), owner('x', 'uid-x')), false);
      assert.deepEqual(fresh.writesSince(0), []);
    } finally {
      await fresh.close();
    }
  });

  it('claims an unowned database and records the owner on the server', async () => {
    const db = uniqueName('own_db');
    const mine = owner('site', 'uid-1');
    assert.deepEqual(await recording.client.claimOwner('database', db, mine), mine);
    assert.deepEqual(await recording.client.getOwner('database', db), mine);
    assert.deepEqual(await recordedRows('database', db), [mine]);
  });

  it('returns the recorded owner to a second claimant, who detects the conflict by uid', async () => {
    const db = uniqueName('own_conflict');
    await recording.client.claimOwner('database', db, owner('first', 'uid-first'));
    const seen = await recording.client.claimOwner('database', db, owner('second', 'uid-second', 'team-b'));
    assert.deepEqual(seen, owner('first', 'uid-first'));
    assert.deepEqual(await recordedRows('database', db), [owner('first', 'uid-first')]);
  });

  it('lets exactly one of many concurrent claims from different clients win', async () => {
    const db = uniqueName('own_race');
    const clients = Array.from({ length: 6 }, () => MySQLClient.create(adminOptions(server)));
    try {
      const results = await Promise.all(clients.map((c, i) => c.claimOwner('database', db, owner(`racer-${i}`, `uid-${i}`))));
      const winners = new Set(results.map((r) => r.uid));
      assert.equal(winners.size, 1, 'every claimant sees the same owner');
      assert.deepEqual(await recordedRows('database', db), [results[0]]);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  });

  it('keeps databases and users apart, and users by user@host', async () => {
    const name = uniqueName('own_same');
    await recording.client.claimOwner('database', name, owner('db-object', 'uid-db'));
    await recording.client.claimOwner('user', `${name}@%`, owner('user-object', 'uid-user'));
    await recording.client.claimOwner('user', `${name}@localhost`, owner('local-object', 'uid-local'));
    assert.equal((await recording.client.getOwner('database', name))?.uid, 'uid-db');
    assert.equal((await recording.client.getOwner('user', `${name}@%`))?.uid, 'uid-user');
    assert.equal((await recording.client.getOwner('user', `${name}@LOCALHOST`))?.uid, 'uid-local');
  });

  it('transfers a record to the same namespace/name with a new uid (a restored object), and only that', async () => {
    const db = uniqueName('own_restore');
    await recording.client.claimOwner('database', db, owner('site', 'uid-before-backup'));
    assert.equal(await recording.client.transferOwner('database', db, owner('site', 'uid-x', 'team-b')), false, 'other namespace');
    assert.equal(await recording.client.transferOwner('database', db, owner('other-site', 'uid-x')), false, 'other name');
    assert.equal((await recording.client.getOwner('database', db))?.uid, 'uid-before-backup');

    assert.equal(await recording.client.transferOwner('database', db, owner('site', 'uid-after-restore')), true);
    assert.deepEqual(await recordedRows('database', db), [owner('site', 'uid-after-restore')]);
    assert.equal(await recording.client.transferOwner('database', db, owner('site', 'uid-after-restore')), false, 'already that uid');
  });

  it('releases a record only for the uid that owns it', async () => {
    const db = uniqueName('own_release');
    await recording.client.claimOwner('database', db, owner('site', 'uid-owner'));
    await recording.client.releaseOwner('database', db, 'uid-someone-else');
    assert.equal((await recording.client.getOwner('database', db))?.uid, 'uid-owner');
    await recording.client.releaseOwner('database', db, 'uid-owner');
    assert.equal(await recording.client.getOwner('database', db), undefined);
    assert.deepEqual(await recordedRows('database', db), []);
    assert.deepEqual(await recording.client.claimOwner('database', db, owner('next', 'uid-next')), owner('next', 'uid-next'));
  });
});

describe('MySQLClient ownership records on a server of their own', () => {
  let dir: string;
  let own: MariaDBInstance;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'flightdeck-owners-'));
    own = await startMariaDB({ dir, name: 'owners' });
  });

  after(async () => {
    await stopMariaDB(own);
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates the bookkeeping table on the first claim, once per client; a repeated claim sends no write', async () => {
    const fresh = new RecordingClient(adminOptions(own));
    try {
      const first = uniqueName('own_once');
      await fresh.client.claimOwner('database', first, owner('a', 'uid-a'));
      await fresh.client.claimOwner('database', uniqueName('own_once'), owner('b', 'uid-b'));
      assert.deepEqual(fresh.writesSince(0), ['CREATE DATABASE', 'CREATE TABLE', 'INSERT', 'INSERT']);

      const mark = fresh.statements.length;
      assert.deepEqual(await fresh.client.claimOwner('database', first, owner('a', 'uid-a')), owner('a', 'uid-a'));
      assert.deepEqual(fresh.writesSince(mark), []);
    } finally {
      await fresh.close();
    }
    // A new client (an operator restart) finds the table by reading.
    const restarted = new RecordingClient(adminOptions(own));
    try {
      await restarted.client.claimOwner('database', uniqueName('own_once'), owner('c', 'uid-c'));
      assert.deepEqual(restarted.writesSince(0), ['INSERT']);
    } finally {
      await restarted.close();
    }
  });

  it('creates the bookkeeping table again when it was dropped behind the client’s back', async () => {
    const client = new RecordingClient(adminOptions(own));
    try {
      const db = uniqueName('own_dropped');
      await client.client.claimOwner('database', db, owner('site', 'uid-1'));
      const conn = await adminConnection(own);
      try {
        await conn.query('DROP DATABASE flightdeck_meta');
      } finally {
        await conn.end();
      }
      // The first statement finds the table gone and says so; the next claim creates it again.
      await assert.rejects(client.client.claimOwner('database', db, owner('site', 'uid-1')), /doesn't exist|Unknown database/);
      assert.deepEqual(await client.client.claimOwner('database', db, owner('site', 'uid-1')), owner('site', 'uid-1'));
      assert.deepEqual(await recordedRows('database', db, own), [owner('site', 'uid-1')]);
    } finally {
      await client.close();
    }
  });
});
