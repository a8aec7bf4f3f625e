import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import type { Checkpoint, CheckpointStore } from './checkpoint-store.js';
import { CheckpointSaver, type AcknowledgedPosition } from './checkpoint-saver.js';

/** A store whose saves take a while and that counts how many run at once. */
class SlowStore implements CheckpointStore {
  running = 0;
  mostAtOnce = 0;
  saved: Checkpoint[] = [];
  async load(): Promise<Checkpoint | null> {
    return null;
  }
  async save(_shardId: string, checkpoint: Checkpoint): Promise<void> {
    this.running++;
    this.mostAtOnce = Math.max(this.mostAtOnce, this.running);
    await new Promise((resolve) => setTimeout(resolve, 20));
    this.saved.push(checkpoint);
    this.running--;
  }
  async clear(): Promise<void> {}
}

describe('CheckpointSaver', () => {
  it('runs one save at a time when many forced saves wait for the same one, and ends at the newest position', async () => {
    const store = new SlowStore();
    const position: AcknowledgedPosition = {
      replid: 'a'.repeat(40),
      offset: 100,
      db: 0,
      phase: 'incremental',
    };
    const saver = new CheckpointSaver({
      shardId: 's-0',
      store,
      logger: pino({ level: 'silent' }),
      position: () => ({ ...position }),
    });
    const first = saver.save(true);
    position.offset = 200;
    const waiting = Array.from({ length: 6 }, () => saver.save(true));
    position.offset = 300;
    await Promise.all([first, ...waiting]);
    expect(store.mostAtOnce).toBe(1);
    expect(store.saved.at(-1)?.offset).toBe(300);
    const offsets = store.saved.map((checkpoint) => checkpoint.offset);
    expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
    expect(new Set(offsets).size).toBe(offsets.length);
  });
});
