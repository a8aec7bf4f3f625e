import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { byteByByte, randomChunks, seededRandom } from '@shardbridge/testkit';
import { describe, expect, it } from 'vitest';
import { RdbError } from './errors.js';
import { inspectRdb, type InspectSummary } from './inspect-rdb.js';
import { RdbParser } from './rdb-parser.js';

/**
 * Acceptance suite over ../shared/rdb-corpus (real RDB files plus what a real server loaded from
 * them). Read-only: nothing is written into the corpus.
 */

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const corpusDir = path.resolve(repoRoot, '..', 'shared', 'rdb-corpus');
const corpusPresent = existsSync(path.join(corpusDir, 'manifest.json'));
if (!corpusPresent) console.warn(`rdb corpus tests skipped: no corpus at ${corpusDir}`);

interface ManifestEntry {
  file: string;
  rdbVersion: number;
  expected: string;
  bytes: number;
  mustReject?: string;
  droppedOnLoad?: { expiredKeys: number; emptyKeys: number };
}

const manifest: ManifestEntry[] = corpusPresent
  ? JSON.parse(readFileSync(path.join(corpusDir, 'manifest.json'), 'utf8'))
  : [];
const nameOf = (e: ManifestEntry): string => path.basename(e.file, '.rdb');
const readRdb = (e: ManifestEntry): Buffer => readFileSync(path.join(corpusDir, e.file));

async function inspectLines(
  source: Buffer | Iterable<Buffer>,
): Promise<{ lines: string[]; summary: InspectSummary }> {
  const lines: string[] = [];
  const summary = await inspectRdb(source, (l) => lines.push(l));
  return { lines, summary };
}

/** README rule: firstId / maxDeletedId / entriesAdded are derived on load for RDB < 10, so not compared. */
function normalise(line: string, rdbVersion: number): unknown {
  const o = JSON.parse(line);
  if (o.type === 'stream' && rdbVersion < 10) {
    delete o.value.firstId;
    delete o.value.maxDeletedId;
    delete o.value.entriesAdded;
  }
  return o;
}

/** Parses to completion (or error) with the given options; returns the thrown error, if any. */
function parseOutcome(buf: Buffer, verifyChecksum: boolean): unknown {
  try {
    const p = new RdbParser({ onKey: (r) => void r.restorePayload }, { verifyChecksum });
    p.push(buf);
    p.end();
    return undefined;
  } catch (err) {
    return err;
  }
}

describe.skipIf(!corpusPresent)('RDB corpus acceptance', () => {
  for (const entry of manifest) {
    const name = nameOf(entry);
    if (entry.mustReject) {
      it(`rejects ${name}`, async () => {
        const err = await inspectLines(readRdb(entry)).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(RdbError);
        expect((err as RdbError).message).toMatch(/offset \d+/);
      });
      continue;
    }
    it(`${name} matches what the server loaded`, async () => {
      const { lines, summary } = await inspectLines(readRdb(entry));
      const expected = readFileSync(path.join(corpusDir, entry.expected), 'utf8').split('\n').filter(Boolean);
      const mismatches: string[] = [];
      for (let i = 0; i < Math.max(lines.length, expected.length); i++) {
        if (lines[i] === expected[i]) continue;
        const got = lines[i] === undefined ? undefined : normalise(lines[i], entry.rdbVersion);
        const want = expected[i] === undefined ? undefined : normalise(expected[i], entry.rdbVersion);
        try {
          expect(got).toEqual(want);
        } catch {
          if (mismatches.length < 3) mismatches.push(`line ${i}: got ${lines[i]?.slice(0, 300)}`);
        }
      }
      expect(mismatches).toEqual([]);
      expect(lines.length).toBe(expected.length);
      const dropped = entry.droppedOnLoad
        ? entry.droppedOnLoad.expiredKeys + entry.droppedOnLoad.emptyKeys
        : 0;
      expect(summary.dropped).toBe(dropped);
      expect(summary.bytes).toBe(entry.bytes);
      expect(summary.rdbVersion).toBe(entry.rdbVersion);
    });
  }
});

describe.skipIf(!corpusPresent)('RDB corpus chunking', () => {
  const valid = manifest.filter((e) => !e.mustReject);

  it('byte-by-byte feeding gives the same output as one chunk (files under 8 KiB)', async () => {
    for (const entry of valid.filter((e) => e.bytes < 8192)) {
      const buf = readRdb(entry);
      const whole = await inspectLines(buf);
      const bytewise = await inspectLines(byteByByte(buf));
      expect(bytewise.lines, nameOf(entry)).toEqual(whole.lines);
    }
  });

  it('random split points give the same output as one chunk', async () => {
    for (const entry of valid) {
      const buf = readRdb(entry);
      const whole = await inspectLines(buf);
      const maxChunk = entry.bytes > 1_000_000 ? 100_000 : 700;
      const split = await inspectLines(randomChunks(buf, seededRandom(entry.bytes), maxChunk));
      expect(split.lines, nameOf(entry)).toEqual(whole.lines);
    }
  });
});

describe.skipIf(!corpusPresent)('RDB corpus damage', () => {
  const valid = manifest.filter((e) => !e.mustReject);

  it('every file cut short fails with RDB_TRUNCATED', () => {
    for (const entry of valid) {
      const buf = readRdb(entry);
      const n = buf.length;
      const cuts = [0, 3, 8, 9, 10, Math.floor(n / 3), Math.floor(n / 2), n - 9, n - 2, n - 1];
      for (const cut of cuts.filter((c) => c >= 0 && c < n)) {
        const err = parseOutcome(buf.subarray(0, cut), true);
        expect(err, `${nameOf(entry)} cut at ${cut}`).toBeInstanceOf(RdbError);
        expect((err as RdbError).code, `${nameOf(entry)} cut at ${cut}`).toBe('RDB_TRUNCATED');
        expect((err as RdbError).offset).toBe(cut);
      }
    }
  });

  it('random byte flips give a coded RdbError or a result, never another crash', () => {
    const rnd = seededRandom(42);
    for (const entry of valid.filter((e) => e.bytes < 2_000_000)) {
      const original = readRdb(entry);
      for (let trial = 0; trial < 25; trial++) {
        const buf = Buffer.from(original);
        const flips = 1 + Math.floor(rnd() * 3);
        for (let f = 0; f < flips; f++) buf[Math.floor(rnd() * buf.length)] ^= 1 + Math.floor(rnd() * 255);
        for (const verifyChecksum of [true, false]) {
          const err = parseOutcome(buf, verifyChecksum);
          if (err !== undefined) {
            expect(err, `${nameOf(entry)} trial ${trial}: ${String(err)}`).toBeInstanceOf(RdbError);
            expect((err as RdbError).code).toMatch(/^RDB_/);
          }
        }
      }
    }
  });
});
