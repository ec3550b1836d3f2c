import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { effectiveLiveSettings, settingsToChange } from './live-settings.ts';

describe('effectiveLiveSettings', () => {
  it('keeps the last value of a name, as an option file does', () => {
    assert.deepEqual(
      effectiveLiveSettings([
        { name: 'max_connections', value: 100 },
        { name: 'wait_timeout', value: 60 },
        { name: 'max_connections', value: 300 },
      ]),
      [
        { name: 'wait_timeout', value: 60 },
        { name: 'max_connections', value: 300 },
      ],
    );
  });
});

describe('settingsToChange: only the difference is written', () => {
  const wanted = [
    { name: 'max_connections', value: 300 },
    { name: 'long_query_time', value: 0.5 },
    { name: 'slow_query_log', value: 'ON' },
  ];

  it('nothing when the server has every value already (in its own spelling)', () => {
    const reported = new Map([
      ['max_connections', '300'],
      ['long_query_time', '0.500000'],
      ['slow_query_log', 'ON'],
    ]);
    assert.deepEqual(settingsToChange(wanted, reported), []);
  });

  it('the values that differ, and those the server does not report', () => {
    const reported = new Map([
      ['max_connections', '151'],
      ['long_query_time', '0.500000'],
    ]);
    assert.deepEqual(settingsToChange(wanted, reported), [
      { name: 'max_connections', value: 300 },
      { name: 'slow_query_log', value: 'ON' },
    ]);
  });

  it('a value the server rounded after our SET is not set again', () => {
    const rounded = [{ name: 'join_buffer_size', value: 1000 }];
    const reported = new Map([['join_buffer_size', '896']]);
    assert.deepEqual(settingsToChange(rounded, reported), rounded);
    assert.deepEqual(settingsToChange(rounded, reported, (name, value) => (name === 'join_buffer_size' && value === 1000 ? '896' : undefined)), []);
    // Changed by hand since: set again.
    assert.deepEqual(settingsToChange(rounded, new Map([['join_buffer_size', '262144']]), () => '896'), rounded);
  });
});
