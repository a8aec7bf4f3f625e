import { createReadStream } from 'node:fs';
import { inspectRdb } from '@shardbridge/rdb';

/**
 * `shardbridge rdb inspect <file.rdb>`: the file's contents as canonical JSON Lines on stdout. A truncated or
 * corrupt file ends with a non-zero exit and one `error:` line naming the byte offset.
 */
export async function rdbInspectCommand(file: string): Promise<void> {
  const out = process.stdout;
  let pending: string[] = [];
  const flush = async () => {
    if (pending.length === 0) return;
    const text = pending.join('');
    pending = [];
    if (!out.write(text)) await new Promise((resolve) => out.once('drain', resolve));
  };
  await inspectRdb(createReadStream(file, { highWaterMark: 1 << 20 }), (line: string) => {
    pending.push(`${line}\n`);
  });
  await flush();
}
