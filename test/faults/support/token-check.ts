import type { Redis } from 'ioredis';
import { contentsOf, diffContents, formatDifferences, type ContentDifference } from '@shardbridge/testkit';
import { clusterContents, type ClusterRouter } from '../../control-plane/support/cluster-router.js';
import { TOKEN_KEY_PREFIX } from './token-writes.js';

const APPLIED_MARKER_PREFIX = 'shardbridge:applied:';

/** Source and target compared after a fault: token lists token by token, every other key exactly. */
export interface TokenComparison {
  /** keys on the source */
  keys: number;
  /** tokens in the source's lists */
  tokens: number;
  /** source tokens the target lacks (counted with multiplicity) */
  lost: number;
  /** target tokens beyond the source's count: commands applied twice */
  duplicated: number;
  /** differences of every key that is not a token list (must be none) */
  others: ContentDifference[];
}

/**
 * Compares the source (truth) with the target. A token list's order is the source's, so a replayed RPUSH shows
 * as a surplus token; counting per token rather than diffing lists keeps one duplicate from hiding the rest.
 */
export async function compareTokens(
  router: ClusterRouter,
  target: Redis,
  /** count only the token lists of this load (`startTokenWrites`' name); other keys are always compared */
  load?: string,
): Promise<TokenComparison> {
  const [source, copy] = await Promise.all([clusterContents(router), contentsOf(target, { dbs: [0] })]);
  const differences = diffContents(source, copy, { streamEntriesRead: 'ignore' });
  const isTokenList = (key: string) => key.startsWith(TOKEN_KEY_PREFIX) && key.endsWith(':list');
  const counted = (key: string) => load === undefined || key.endsWith(`:${load}:list`);
  const result: TokenComparison = {
    keys: Object.keys(source.dbs['0'] ?? {}).length,
    tokens: 0,
    lost: 0,
    duplicated: 0,
    // ShardBridge's own applied markers (exactlyOnce) exist only on the target.
    others: differences.filter(
      (difference) => !isTokenList(difference.key) && !difference.key.startsWith(APPLIED_MARKER_PREFIX),
    ),
  };
  const lists = Object.keys(source.dbs['0'] ?? {})
    .map((key) => Buffer.from(key, 'base64').toString())
    .filter(isTokenList);
  const extra = differences.filter((d) => isTokenList(d.key) && d.kind === 'missing-in-a').map((d) => d.key);
  for (const key of new Set([...lists, ...extra].filter(counted))) {
    const [left, right] = await Promise.all([
      router.client(key).lrange(key, 0, -1),
      target.lrange(key, 0, -1),
    ]);
    result.tokens += left.length;
    const counts = new Map<string, number>();
    for (const token of left) counts.set(token, (counts.get(token) ?? 0) + 1);
    for (const token of right) counts.set(token, (counts.get(token) ?? 0) - 1);
    for (const surplus of counts.values()) {
      if (surplus > 0) result.lost += surplus;
      else result.duplicated -= surplus;
    }
  }
  return result;
}

/** One line for the test output. */
export function describeComparison(comparison: TokenComparison): string {
  return (
    `${comparison.keys} keys, ${comparison.tokens} tokens, ${comparison.lost} lost, ` +
    `${comparison.duplicated} duplicated, ${comparison.others.length} other differences` +
    (comparison.others.length > 0 ? `\n${formatDifferences(comparison.others)}` : '')
  );
}
