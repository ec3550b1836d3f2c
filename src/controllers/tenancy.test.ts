import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mayAdopt, namespaceAllowed, privilegeViolations, selectorMatches } from './tenancy.ts';
import type { TenancyPolicy } from '../api/normalize.ts';

const same: TenancyPolicy = { from: 'Same', adoptFrom: [] };

describe('tenancy', () => {
  it('admits only the cluster namespace by default', () => {
    assert.equal(namespaceAllowed(same, 'db', 'db', {}), true);
    assert.equal(namespaceAllowed(same, 'db', 'site-a', {}), false);
    assert.equal(namespaceAllowed({ from: 'All', adoptFrom: [] }, 'db', 'site-a', undefined), true);
  });

  it('admits namespaces by label selector, and never an unknown namespace', () => {
    const policy: TenancyPolicy = {
      from: 'Selector',
      selector: { matchLabels: { tier: 'sites' }, matchExpressions: [{ key: 'blocked', operator: 'DoesNotExist' }] },
      adoptFrom: [],
    };
    assert.equal(namespaceAllowed(policy, 'db', 'site-a', { tier: 'sites' }), true);
    assert.equal(namespaceAllowed(policy, 'db', 'site-a', { tier: 'sites', blocked: 'yes' }), false);
    assert.equal(namespaceAllowed(policy, 'db', 'site-a', { tier: 'other' }), false);
    assert.equal(namespaceAllowed(policy, 'db', 'site-a', undefined), false);
    assert.equal(selectorMatches({ matchExpressions: [{ key: 'a', operator: 'Bogus' }] }, { a: 'x' }), false);
    assert.equal(selectorMatches({ matchExpressions: [{ key: 'a', operator: 'In', values: ['x', 'y'] }] }, { a: 'y' }), true);
    assert.equal(selectorMatches({ matchExpressions: [{ key: 'a', operator: 'NotIn', values: ['x'] }] }, { a: 'x' }), false);
  });

  it('lets only the cluster namespace and listed namespaces adopt', () => {
    assert.equal(mayAdopt(same, 'db', 'db'), true);
    assert.equal(mayAdopt(same, 'db', 'site-a'), false);
    assert.equal(mayAdopt({ ...same, adoptFrom: ['site-a'] }, 'db', 'site-a'), true);
  });

  it('refuses what a tenant must not get, with a reason each', () => {
    const owners: Record<string, string> = { shop: 'site-a', blog: 'site-b' };
    const ownerOf = (db: string) => owners[db];
    const ok = privilegeViolations([{ database: 'shop', table: '*', privileges: ['ALL PRIVILEGES'], withGrantOption: false }], 'site-a', 'db', ownerOf);
    assert.deepEqual(ok, []);
    const bad = privilegeViolations(
      [
        { database: '*', table: '*', privileges: ['SELECT'], withGrantOption: false },
        { database: 'mysql', table: 'user', privileges: ['SELECT'], withGrantOption: false },
        { database: 'blog', table: '*', privileges: ['SELECT'], withGrantOption: false },
        { database: 'shop', table: '*', privileges: ['FILE'], withGrantOption: true },
        { database: 'nobody', table: '*', privileges: [], withGrantOption: false },
      ],
      'site-a',
      'db',
      ownerOf,
    );
    assert.equal(bad.length, 6);
    assert.match(bad.join('\n'), /all databases \(\*\.\*\) are reserved/);
    assert.match(bad.join('\n'), /database mysql is a system database/);
    assert.match(bad.join('\n'), /database blog is not owned by a MySQLDatabase in namespace site-a/);
    assert.match(bad.join('\n'), /FILE on shop\.\*: administrative privileges/);
    assert.match(bad.join('\n'), /GRANT OPTION on shop\.\*/);
    assert.match(bad.join('\n'), /database nobody is not owned/);
  });

  it('lets the cluster namespace declare anything', () => {
    assert.deepEqual(privilegeViolations([{ database: '*', table: '*', privileges: ['SUPER'], withGrantOption: true }], 'db', 'db', () => undefined), []);
  });
});
