import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileCheckpointStore } from './file-checkpoint-store.js';

describe('FileCheckpointStore', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shardbridge-ckpt-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('saves, loads and clears a checkpoint', async () => {
    const store = new FileCheckpointStore(join(dir, 'nested'));
    expect(await store.load('shard-0')).toBeNull();
    const checkpoint = { replid: 'a'.repeat(40), offset: 12345, db: 3, savedAt: 1 };
    await store.save('shard-0', checkpoint);
    expect(await store.load('shard-0')).toEqual(checkpoint);
    await store.clear('shard-0');
    expect(await store.load('shard-0')).toBeNull();
  });

  it('refuses a corrupt file with the fix in the message', async () => {
    const store = new FileCheckpointStore(dir);
    await writeFile(join(dir, 'shard-0.checkpoint.json'), '{"replid": 3');
    await expect(store.load('shard-0')).rejects.toMatchObject({
      code: 'CHECKPOINT_CORRUPT',
      message: /delete it/,
    });
  });
});
