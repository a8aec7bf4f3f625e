import { createReadStream } from 'node:fs';
import { inspectRdb, type InspectOptions } from './inspect-rdb.js';

/**
 * Canonical JSON Lines of the RDB file at `path` (for `shardbridge rdb inspect <file>`). Yields lines
 * without newlines. Throws the parser's RdbError (with `code` and `offset`) for an invalid file, or
 * the fs error when the file cannot be read.
 */
export async function* inspectRdbFile(path: string, options: InspectOptions = {}): AsyncGenerator<string> {
  const lines: string[] = [];
  await inspectRdb(createReadStream(path, { highWaterMark: 256 * 1024 }), (l) => lines.push(l), options);
  yield* lines;
}
