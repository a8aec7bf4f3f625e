import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { RdbError } from './errors.js';
import { inspectRdbFile } from './inspect-rdb-file.js';

const corpusFiles = path.resolve(
  fileURLToPath(import.meta.url),
  '..',
  '..',
  '..',
  '..',
  '..',
  'shared',
  'rdb-corpus',
  'files',
);
const scratch = mkdtempSync(path.join(tmpdir(), 'rdb-inspect-'));

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function collect(file: string): Promise<string[]> {
  const out: string[] = [];
  for await (const line of inspectRdbFile(file)) out.push(line);
  return out;
}

describe('inspectRdbFile', () => {
  it.skipIf(!existsSync(corpusFiles))(
    'streams a corpus file into canonical lines, functions first',
    async () => {
      const lines = await collect(path.join(corpusFiles, 'redis-7.4.1-types.rdb'));
      expect(JSON.parse(lines[0])).toHaveProperty('functions');
      expect(lines.length).toBe(173); // functions line + 172 keys, as in expected/redis-7.4.1-types.jsonl
      expect(JSON.parse(lines[1])).toMatchObject({ db: 0, key: '' });
    },
  );

  it('fails with a coded RdbError naming the offset for a broken file', async () => {
    const file = path.join(scratch, 'broken.rdb');
    writeFileSync(file, Buffer.from('REDIS0011\xfe\x00\x00\x03', 'latin1'));
    const err = await collect(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RdbError);
    expect((err as RdbError).code).toBe('RDB_TRUNCATED');
    expect((err as RdbError).message).toContain('offset 13');
  });

  it('names Valkey 9 files instead of just calling them garbage', async () => {
    const file = path.join(scratch, 'valkey.rdb');
    writeFileSync(file, 'VALKEY080');
    const err = await collect(file).catch((e: unknown) => e);
    expect((err as RdbError).code).toBe('RDB_BAD_MAGIC');
    expect((err as RdbError).message).toContain('Valkey 9');
  });
});
