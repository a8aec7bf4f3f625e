import { describe, expect, it } from 'vitest';
import { formatPreflightReport } from './format-report.js';
import { keySlotOf } from './key-slot.js';
import type { PreflightReport } from './preflight-report.js';
import { rdbVersionFor } from './rdb-version.js';

describe('rdbVersionFor', () => {
  it('follows the RDB format history', () => {
    expect(
      [
        '2.8.24',
        '3.0.7',
        '3.2.12',
        '4.0.14',
        '5.0.14',
        '6.2.14',
        '7.0.15',
        '7.2.5',
        '7.4.1',
        '8.0.2',
        'x',
      ].map(rdbVersionFor),
    ).toEqual([6, 7, 8, 8, 9, 9, 10, 11, 12, 12, null]);
  });
});

describe('keySlotOf', () => {
  it('is CRC16-XMODEM mod 16384, honouring non-empty hash tags', () => {
    expect(keySlotOf('123456789')).toBe(0x31c3 % 16384);
    expect(keySlotOf('foo')).toBe(12182);
    expect(keySlotOf('{user1000}.following')).toBe(keySlotOf('user1000'));
    expect(keySlotOf('foo{}{bar}')).toBe(keySlotOf('foo{}{bar}'));
    expect(keySlotOf('foo{}{bar}')).not.toBe(keySlotOf('bar'));
  });
});

describe('formatPreflightReport', () => {
  it('prints both tables, problems with fixes and the verdict', () => {
    const report: PreflightReport = {
      ok: false,
      durationMs: 12,
      source: {
        type: 'cluster',
        shards: [
          {
            nodeId: 'a'.repeat(40),
            slots: [[0, 16383]],
            role: 'master',
            announced: 'node-0.internal:7000',
            reachable: '127.0.0.1:17000',
            mappedBy: 'natRule',
            connectMs: 0.4,
            auth: 'ok',
            version: '7.0.15',
            error: null,
            rdbVersion: 10,
            psync: 'permitted',
            replconf: 'permitted',
            replBacklogSize: 1048576,
          },
        ],
      },
      target: { type: 'standalone', nodes: [], slotsCovered: null },
      problems: [
        { side: 'target', address: 't:1', code: 'PREFLIGHT_UNREACHABLE', message: 'gone', fix: 'map it' },
      ],
    };
    const text = formatPreflightReport(report);
    expect(text).toMatch(
      /aaaaaaaa +0-16383 +master +node-0\.internal:7000 +127\.0\.0\.1:17000 +natRule +0\.4 ms +ok +7\.0\.15 +10 +permitted/,
    );
    expect(text).toContain('1 MB');
    expect(text).toContain('  (none)');
    expect(text).toContain('[target] PREFLIGHT_UNREACHABLE t:1: gone\n      fix: map it');
    expect(text.endsWith('FAILED: preflight took 12 ms')).toBe(true);
  });
});
