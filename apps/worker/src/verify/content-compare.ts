import type { DbClient } from './db-client.js';
import { text } from './db-client.js';
import { unorderedDigest } from './unordered-digest.js';

/** One side of a content comparison: the node and the db the key lives in there. */
export interface KeySide {
  node: DbClient;
  db: number;
}

export interface ContentComparison {
  equal: boolean;
  /** what differs, in words; absent when equal */
  detail?: string;
  sourceLength: number;
  targetLength: number;
}

export interface ContentCompareOptions {
  /** bytes read per window (GETRANGE length; element windows are sized from it). @defaultValue 1048576 */
  windowBytes?: number;
  /** the source's MEMORY USAGE estimate of the key, to size element windows. @defaultValue 0 (unknown) */
  estimatedBytes?: number;
}

const LENGTH_COMMAND: Record<string, string> = {
  string: 'STRLEN',
  list: 'LLEN',
  hash: 'HLEN',
  set: 'SCARD',
  zset: 'ZCARD',
  stream: 'XLEN',
};

/** Types whose content this module can compare (module types are compared by DUMP only). */
export function comparableType(type: string): boolean {
  return type in LENGTH_COMMAND;
}

/**
 * Compares the value of one key of type `type` on both sides by content, window by window, never loading a big key
 * whole: strings by GETRANGE, lists by LRANGE, sorted sets by ZRANGE WITHSCORES and streams by XRANGE (in lockstep,
 * so the first differing position is named), hashes and sets by an order-independent digest of HSCAN/SSCAN. The
 * unit of a window is one element: a single 10 MB list element is read in one reply (Redis has no sub-element range
 * for lists), a 10 MB string in windows of `windowBytes`. Stream consumer groups are not compared here (DUMP
 * covers them when both sides run the same version).
 */
export async function compareContent(
  source: KeySide,
  target: KeySide,
  key: Buffer,
  type: string,
  options: ContentCompareOptions = {},
): Promise<ContentComparison> {
  const windowBytes = options.windowBytes ?? 1024 * 1024;
  const lengthCommand = LENGTH_COMMAND[type];
  const [sourceLength, targetLength] = (
    await Promise.all([
      source.node.call(source.db, lengthCommand, key),
      target.node.call(target.db, lengthCommand, key),
    ])
  ).map(Number);
  const lengths = { sourceLength, targetLength };
  if (sourceLength !== targetLength) {
    return { equal: false, detail: `${unit(type)} count ${sourceLength} vs ${targetLength}`, ...lengths };
  }
  const averageBytes = sourceLength > 0 ? (options.estimatedBytes ?? 0) / sourceLength : 0;
  const elements = Math.max(1, Math.min(1000, Math.floor(windowBytes / Math.max(1, averageBytes))));
  const both = (command: string, ...args: Array<string | number>) =>
    Promise.all([
      source.node.call(source.db, command, key, ...args) as Promise<unknown>,
      target.node.call(target.db, command, key, ...args) as Promise<unknown>,
    ]);
  switch (type) {
    case 'string':
      for (let offset = 0; offset < sourceLength; offset += windowBytes) {
        const [left, right] = (await both('GETRANGE', offset, offset + windowBytes - 1)) as [Buffer, Buffer];
        if (!left.equals(right)) {
          return {
            equal: false,
            detail: `bytes from ${offset + firstMismatch(left, right)} differ`,
            ...lengths,
          };
        }
      }
      return { equal: true, ...lengths };
    case 'list':
    case 'zset': {
      const command = type === 'list' ? 'LRANGE' : 'ZRANGE';
      const extra = type === 'zset' ? ['WITHSCORES'] : [];
      const perElement = type === 'zset' ? 2 : 1;
      for (let index = 0; index < sourceLength; index += elements) {
        const [left, right] = (await both(command, index, index + elements - 1, ...extra)) as [
          Buffer[],
          Buffer[],
        ];
        const at = firstDifferentItem(left, right);
        if (at >= 0) {
          const position = index + Math.floor(at / perElement);
          return { equal: false, detail: `${unit(type)} ${position} differs`, ...lengths };
        }
      }
      return { equal: true, ...lengths };
    }
    case 'stream':
      return compareStreams(both, elements, lengths);
    default: {
      const count = Math.max(10, elements);
      const [left, right] = await Promise.all([
        unorderedDigest(source.node, source.db, key, type as 'hash' | 'set', count),
        unorderedDigest(target.node, target.db, key, type as 'hash' | 'set', count),
      ]);
      return left.digest.equals(right.digest)
        ? { equal: true, ...lengths }
        : { equal: false, detail: `${unit(type)}s differ (content digest)`, ...lengths };
    }
  }
}

async function compareStreams(
  both: (command: string, ...args: Array<string | number>) => Promise<unknown[]>,
  count: number,
  lengths: { sourceLength: number; targetLength: number },
): Promise<ContentComparison> {
  let start = '-';
  for (;;) {
    const [left, right] = (await both('XRANGE', start, '+', 'COUNT', count)) as [unknown[], unknown[]];
    const at = firstDifferentItem(left.map(flatten), right.map(flatten));
    if (at >= 0) {
      const id = text((left[at] as unknown[] | undefined)?.[0] ?? (right[at] as unknown[])[0]);
      return { equal: false, detail: `stream entry ${id} differs`, ...lengths };
    }
    if (left.length < count) return { equal: true, ...lengths };
    start = `(${text((left[left.length - 1] as unknown[])[0])}`;
  }
}

function flatten(entry: unknown): Buffer {
  const [id, fields] = entry as [Buffer, Buffer[]];
  return Buffer.concat([id, ...fields.flatMap((field) => [Buffer.from([0]), field])]);
}

function firstDifferentItem(left: Buffer[], right: Buffer[]): number {
  const length = Math.max(left.length, right.length);
  for (let i = 0; i < length; i++) {
    if (!left[i] || !right[i] || !left[i].equals(right[i])) return i;
  }
  return -1;
}

function firstMismatch(left: Buffer, right: Buffer): number {
  const length = Math.min(left.length, right.length);
  for (let i = 0; i < length; i++) if (left[i] !== right[i]) return i;
  return length;
}

function unit(type: string): string {
  return { string: 'byte', list: 'element', hash: 'field', set: 'member', zset: 'member', stream: 'entry' }[
    type
  ]!;
}
