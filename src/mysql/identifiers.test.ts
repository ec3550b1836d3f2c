import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  InvalidIdentifierError,
  databaseName,
  databaseOfGrantPattern,
  escapeGrantDatabase,
  quoteGrantPattern,
  hostName,
  isValid,
  quoteAccount,
  quoteGrantDatabase,
  quoteIdentifier,
  tableName,
  userName,
} from './identifiers.ts';

const hostile = [
  '',
  'a`b',
  "a'b",
  'a"b',
  'a b',
  'a;DROP DATABASE mysql',
  'a\\b',
  'a\u0000b',
  'a\nb',
  'café',
  '$leading',
  '-leading',
  'x'.repeat(65),
];

describe('identifiers', () => {
  it('accepts the names sites use', () => {
    for (const name of ['my_database', 'site-two', 'wp_1', 'Drupal8', 'a$b', '_x']) {
      assert.ok(isValid(databaseName, name), name);
    }
    assert.ok(isValid(userName, 'my_user'));
    assert.ok(isValid(userName, 'app.reader'));
    for (const host of ['%', 'localhost', '10.0.0.%', '192.168.1.0/255.255.255.0', '::1', 'web-1.example.com']) {
      assert.ok(isValid(hostName, host), host);
    }
    assert.ok(isValid(tableName, '*'));
  });

  it('refuses quotes, spaces, separators, control and non-ASCII characters, and over-long names', () => {
    for (const name of hostile) {
      assert.equal(isValid(databaseName, name), false, JSON.stringify(name));
      assert.throws(() => quoteIdentifier(databaseName, name), InvalidIdentifierError);
    }
    for (const name of ['a b', "a'b", 'a@b', 'x'.repeat(81)]) assert.equal(isValid(userName, name), false, name);
    for (const host of ["%'", 'a b', 'a`b']) assert.equal(isValid(hostName, host), false, host);
  });

  it('says what is wrong in the error', () => {
    assert.throws(() => quoteIdentifier(databaseName, 'a`b'), /invalid database name "a`b": use letters, digits/);
  });

  it('quotes identifiers and accounts', () => {
    assert.equal(quoteIdentifier(databaseName, 'site-two'), '`site-two`');
    assert.equal(quoteAccount('my_user', '%'), "'my_user'@'%'");
  });

  it('escapes the LIKE wildcards of database names in grants', () => {
    assert.equal(quoteGrantDatabase('site_a'), '`site\\_a`');
    assert.equal(quoteGrantDatabase('plain'), '`plain`');
  });

  it('reads back which one database a stored grant pattern names, if any', () => {
    assert.equal(escapeGrantDatabase('site_a'), 'site\\_a');
    assert.equal(databaseOfGrantPattern('site\\_a'), 'site_a');
    assert.equal(databaseOfGrantPattern('site-b$'), 'site-b$');
    for (const pattern of ['site_a', 'site%', 'a\\$b', 'site\\\\_a', '', 'a b']) {
      assert.equal(databaseOfGrantPattern(pattern), undefined, pattern);
    }
  });

  it('quotes stored patterns as they are, for REVOKE only, and refuses quote characters', () => {
    assert.equal(quoteGrantPattern('site_a'), '`site_a`');
    assert.equal(quoteGrantPattern('site\\_a%'), '`site\\_a%`');
    for (const bad of ['a`b', "a'b", 'a b', 'a;b', '']) assert.throws(() => quoteGrantPattern(bad), InvalidIdentifierError, bad);
  });
});
