import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  compareGtidPositions,
  containsGtidPosition,
  errantTransactions,
  formatGtidList,
  GtidParseError,
  laterGtidPosition,
  mergeGtidStates,
  mostAdvanced,
  parseGtidPosition,
  parseGtidState,
  seededBinlogState,
} from './gtid.ts';

const pos = parseGtidPosition;
const state = parseGtidState;

describe('parseGtidPosition', () => {
  it('parses entries into numbers and 64-bit sequence numbers, sorted by domain', () => {
    assert.deepEqual(pos('1-2-7,0-1-18446744073709551615'), [
      { domain: 0, server: 1, seq: 18446744073709551615n },
      { domain: 1, server: 2, seq: 7n },
    ]);
  });

  it('reads the empty string (and blanks) as the empty position', () => {
    assert.deepEqual(pos(''), []);
    assert.deepEqual(pos('  \n'), []);
  });

  it('tolerates the line breaks SHOW SLAVE STATUS puts after commas', () => {
    assert.deepEqual(pos('0-1-5,\n1-1-6'), pos('0-1-5,1-1-6'));
  });

  const malformed: [string, RegExp][] = [
    ['0-1', /"0-1" in "0-1" is not of the form domain-server-seq/],
    ['0-1-2,', /"" in "0-1-2," is not of the form/],
    ['0-1-x', /not of the form/],
    ['-1-2-3', /not of the form/],
    ['0-1-2 3', /not of the form/],
    ['4294967296-1-1', /domain 4294967296 exceeds 4294967295/],
    ['0-4294967296-1', /server_id 4294967296 exceeds/],
    ['0-1-18446744073709551616', /sequence number 18446744073709551616 exceeds/],
    ['0-1-5,0-2-6', /two entries for domain 0/],
  ];
  for (const [text, message] of malformed) {
    it(`refuses ${JSON.stringify(text)} with a message that quotes it`, () => {
      assert.throws(() => pos(text), (error: unknown) => error instanceof GtidParseError && message.test(error.message));
    });
  }
});

describe('parseGtidState', () => {
  it('accepts several servers per domain and refuses a repeated pair', () => {
    assert.equal(formatGtidList(state('0-2-150,0-1-100,1-1-3')), '0-1-100,0-2-150,1-1-3');
    assert.throws(() => state('0-1-1,0-1-2'), /two entries for domain 0, server 1/);
  });
});

describe('formatGtidList', () => {
  it('round-trips through the parser', () => {
    for (const text of ['', '0-1-1', '0-1-100,1-2-5,7-3-18446744073709551615']) {
      assert.equal(formatGtidList(pos(text)), text);
    }
  });
});

describe('compareGtidPositions', () => {
  const table: [string, string, string, ReturnType<typeof compareGtidPositions>][] = [
    ['both empty', '', '', 'equal'],
    ['same single domain', '0-1-10', '0-1-10', 'equal'],
    ['further in the only domain', '0-1-11', '0-1-10', 'ahead'],
    ['behind in the only domain', '0-1-9', '0-1-10', 'behind'],
    ['anything is ahead of empty', '0-1-1', '', 'ahead'],
    ['a domain the other lacks counts as seq 0', '0-1-10,1-1-1', '0-1-10', 'ahead'],
    ['ahead in one domain, equal in another', '0-1-10,1-1-5', '0-1-9,1-1-5', 'ahead'],
    ['ahead in one domain, behind in another', '0-1-10,1-1-4', '0-1-9,1-1-5', 'diverged'],
    ['same seq from different servers', '0-1-10', '0-2-10', 'diverged'],
    ['further by seq although the servers differ (see the limit)', '0-2-150', '0-1-100', 'ahead'],
    ['domain only on the right', '0-1-10', '0-1-10,1-3-1', 'behind'],
  ];
  for (const [name, a, b, expected] of table) {
    it(`${name}: ${JSON.stringify(a)} vs ${JSON.stringify(b)} is ${expected}`, () => {
      assert.equal(compareGtidPositions(pos(a), pos(b)), expected);
      const mirrored = { ahead: 'behind', behind: 'ahead', equal: 'equal', diverged: 'diverged' } as const;
      assert.equal(compareGtidPositions(pos(b), pos(a)), mirrored[expected]);
      assert.equal(containsGtidPosition(pos(a), pos(b)), expected === 'equal' || expected === 'ahead');
    });
  }
});

describe('laterGtidPosition and mergeGtidStates', () => {
  it('takes the later entry of each domain', () => {
    assert.equal(formatGtidList(laterGtidPosition(pos('0-1-10,1-1-2'), pos('0-1-12,2-3-1'))), '0-1-12,1-1-2,2-3-1');
  });

  it('keeps the highest seq of each (domain, server) pair', () => {
    assert.equal(formatGtidList(mergeGtidStates(state('0-1-10,0-2-3'), pos('0-1-12'), [])), '0-1-12,0-2-3');
  });
});

describe('errantTransactions', () => {
  const table: [string, string, string, string][] = [
    ['a replica behind the primary has none', '0-1-90', '0-1-100', ''],
    ['an equal replica has none', '0-1-100', '0-1-100', ''],
    ['an old primary behind the new one, whose state remembers it, has none', '0-1-100', '0-1-100,0-2-150', ''],
    ['an old primary with a write the new one never received', '0-1-101', '0-1-100,0-2-150', '0-1-101'],
    ['a write under a server_id the primary never saw', '0-1-100,0-3-101', '0-1-120', '0-3-101'],
    ['a domain the primary does not have', '0-1-100,5-1-1', '0-1-100', '5-1-1'],
    ['a buried local write on a replica (strict mode allows it below later seqs)', '0-1-102,0-3-101', '0-1-102', '0-3-101'],
    ['both empty', '', '', ''],
  ];
  for (const [name, replica, primary, expected] of table) {
    it(name, () => {
      assert.equal(formatGtidList(errantTransactions(state(replica), state(primary))), expected);
    });
  }

  it('shows why a position is not enough for the primary: a former primary looks errant', () => {
    assert.equal(formatGtidList(errantTransactions(state('0-1-100'), pos('0-2-150'))), '0-1-100');
  });
});

describe('seededBinlogState', () => {
  const table: [string, string, string, string][] = [
    ['a copy of a first primary is its position', '0-1-100', '0-1-90', '0-1-90'],
    ['earlier primaries are remembered', '0-1-100,0-2-150,0-5-40', '0-2-140', '0-1-100,0-2-140,0-5-40'],
    ['another server that wrote after the copy point is left out', '0-1-100,0-2-150', '0-1-100', '0-1-100'],
    ['a domain the copy does not have is left out', '0-1-100,1-1-7', '0-1-100', '0-1-100'],
    ['an empty copy gives an empty state', '0-1-100', '', ''],
  ];
  for (const [name, source, copy, expected] of table) {
    it(name, () => {
      assert.equal(formatGtidList(seededBinlogState(state(source), pos(copy))), expected);
    });
  }

  it('makes a later failover see no errant transaction on the other instances', () => {
    // db-2 is seeded from db-1 (server 2) after a failover from db-0 (server 1), then promoted.
    const promoted = mergeGtidStates(seededBinlogState(state('0-1-100,0-2-150'), pos('0-2-150')), pos('0-3-151'));
    assert.equal(formatGtidList(errantTransactions(state('0-1-100,0-2-150'), promoted)), '');
    assert.equal(formatGtidList(errantTransactions(state('0-1-100,0-2-150'), pos('0-2-150'))), '0-1-100');
  });
});

describe('mostAdvanced', () => {
  interface Candidate {
    name: string;
    index: number;
    position: string;
  }
  const byIndex = (a: Candidate, b: Candidate) => a.index - b.index;
  const choose = (candidates: Candidate[]) => mostAdvanced(candidates, (c) => pos(c.position), byIndex);
  const names = (result: ReturnType<typeof choose>) => {
    if (result.kind === 'found') return { best: result.best.name, tied: result.tied.map((c) => c.name) };
    if (result.kind === 'diverged') return { diverged: [result.first.name, result.second.name] };
    return { none: true };
  };

  it('reports none for no candidates', () => {
    assert.deepEqual(names(choose([])), { none: true });
  });

  it('picks the one that contains the others, whatever their order', () => {
    const a = { name: 'a', index: 0, position: '0-1-5' };
    const b = { name: 'b', index: 1, position: '0-1-9' };
    const c = { name: 'c', index: 2, position: '0-1-7' };
    for (const order of [
      [a, b, c],
      [c, b, a],
      [b, a, c],
    ]) {
      assert.deepEqual(names(choose(order)), { best: 'b', tied: ['b'] });
    }
  });

  it('breaks a tie by the given order, not by input order', () => {
    const a = { name: 'a', index: 2, position: '0-1-9' };
    const b = { name: 'b', index: 1, position: '0-1-9' };
    assert.deepEqual(names(choose([a, b])), { best: 'b', tied: ['b', 'a'] });
    assert.deepEqual(names(choose([b, a])), { best: 'b', tied: ['b', 'a'] });
  });

  it('reports the two candidates that diverged', () => {
    const a = { name: 'a', index: 0, position: '0-1-5,1-1-9' };
    const b = { name: 'b', index: 1, position: '0-1-6' };
    assert.deepEqual(names(choose([b, a])), { diverged: ['a', 'b'] });
    const c = { name: 'c', index: 2, position: '0-1-7' };
    const d = { name: 'd', index: 3, position: '0-2-7' };
    assert.deepEqual(names(choose([d, c, b])), { diverged: ['c', 'd'] });
  });

  it('finds a candidate ahead of one the loop met first', () => {
    const a = { name: 'a', index: 0, position: '0-1-5' };
    const b = { name: 'b', index: 1, position: '0-1-5,1-1-1' };
    assert.deepEqual(names(choose([a, b])), { best: 'b', tied: ['b'] });
  });
});
