import { functionsLine, recordToCanonicalLine } from './canonical-jsonl.js';
import { RdbParser } from './rdb-parser.js';

export interface InspectOptions {
  /**
   * Clock used to drop keys (and hash fields) that are already expired, in unix ms.
   * @defaultValue Date.now() when inspection starts
   */
  now?: number;
}

export interface InspectSummary {
  rdbVersion: number;
  /** keys in the file, including dropped ones */
  keys: number;
  /** keys not written because expired or empty, as the server drops them on load */
  dropped: number;
  functions: number;
  bytes: number;
}

/**
 * Parses a whole RDB and writes its canonical JSON Lines (see canonical-jsonl.ts) through `write`,
 * one line per call without a trailing newline. Output is sorted, so nothing is written until the
 * input is fully parsed; throws the parser's RdbError if the input is not a complete valid RDB.
 */
export async function inspectRdb(
  source: AsyncIterable<Buffer> | Iterable<Buffer> | Buffer,
  write: (line: string) => void,
  options: InspectOptions = {},
): Promise<InspectSummary> {
  const now = options.now ?? Date.now();
  const functions: Buffer[] = [];
  const lines: Array<{ db: number; key: Buffer; line: string }> = [];
  const summary: InspectSummary = { rdbVersion: 0, keys: 0, dropped: 0, functions: 0, bytes: 0 };
  const parser = new RdbParser({
    onHeader: (v) => (summary.rdbVersion = v),
    onFunction: (code) => functions.push(code),
    onKey: (rec) => {
      summary.keys++;
      const line = recordToCanonicalLine(rec, now);
      if (line === undefined) summary.dropped++;
      else lines.push({ db: rec.db, key: rec.key, line });
    },
  });
  if (Buffer.isBuffer(source)) parser.push(source);
  else for await (const chunk of source) parser.push(chunk);
  parser.end();
  summary.functions = functions.length;
  summary.bytes = parser.bytesConsumed;
  const first = functionsLine(functions);
  if (first !== undefined) write(first);
  lines.sort((a, b) => a.db - b.db || Buffer.compare(a.key, b.key));
  for (const l of lines) write(l.line);
  return summary;
}
