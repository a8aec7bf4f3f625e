import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { CheckpointCorruptError, type Checkpoint, type CheckpointStore } from './checkpoint-store.js';

/**
 * One JSON file per shard in `directory`. Saves are atomic (write a temp file, fsync, rename), so a kill -9 at any
 * moment leaves either the old or the new checkpoint, never a torn one.
 */
export class FileCheckpointStore implements CheckpointStore {
  private saves = 0;

  constructor(private readonly directory: string) {}

  private fileOf(shardId: string): string {
    return join(this.directory, `${shardId.replace(/[^A-Za-z0-9_.-]/g, '_')}.checkpoint.json`);
  }

  async load(shardId: string): Promise<Checkpoint | null> {
    const file = this.fileOf(shardId);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    try {
      const parsed = JSON.parse(text) as Partial<Checkpoint>;
      if (typeof parsed.replid !== 'string' || !/^[0-9a-f]{40}$/.test(parsed.replid))
        throw new Error('bad replid');
      if (typeof parsed.offset !== 'number' || !Number.isSafeInteger(parsed.offset))
        throw new Error('bad offset');
      if (typeof parsed.db !== 'number' || !Number.isInteger(parsed.db) || parsed.db < 0)
        throw new Error('bad db');
      return {
        replid: parsed.replid,
        offset: parsed.offset,
        db: parsed.db,
        savedAt: Number(parsed.savedAt ?? 0),
      };
    } catch (error) {
      throw new CheckpointCorruptError(
        `checkpoint ${file} is unreadable (${(error as Error).message}); delete it to force a full resync`,
      );
    }
  }

  async save(shardId: string, checkpoint: Checkpoint): Promise<void> {
    await mkdir(this.directory, { recursive: true });
    const file = this.fileOf(shardId);
    // A temp file per save: two saves of one shard never write into the same file, whoever calls them.
    const temp = `${file}.${process.pid}.${++this.saves}.tmp`;
    const handle = await open(temp, 'w');
    try {
      await handle.writeFile(JSON.stringify(checkpoint) + '\n');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  }

  async clear(shardId: string): Promise<void> {
    await rm(this.fileOf(shardId), { force: true });
  }
}
