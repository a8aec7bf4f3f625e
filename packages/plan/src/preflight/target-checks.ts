import { randomBytes } from 'node:crypto';
import type { NodeLink } from '../discovery/probe-node.js';
import { keySlotOf } from './key-slot.js';
import type { ExtraOutcome, NodeToCheck } from './node-check.js';
import { reasonOf } from './node-check.js';
import type { PreflightProblem } from './preflight-report.js';

/** Prefix of the throw-away keys the writability check sets and deletes. */
export const PREFLIGHT_KEY_PREFIX = 'shardbridge:preflight:';

/**
 * Whether the node accepts writes: SET (with a 60 s expiry, in case the DEL never arrives) and DEL of a unique
 * `shardbridge:preflight:*` key — for a cluster master, one whose slot it serves. READONLY, NOPERM, OOM or a
 * MOVED reply make it not writable.
 */
export async function checkTargetWritable(
  link: NodeLink,
  info: Map<string, string>,
  node: NodeToCheck,
): Promise<ExtraOutcome<{ writable: boolean | null }>> {
  const key = keyFor(node);
  const address = `${node.announced.host}:${node.announced.port}`;
  try {
    await link.call('SET', key, '1', 'PX', '60000');
    await link.call('DEL', key);
    return { extra: { writable: true }, problems: [] };
  } catch (error) {
    const reason = reasonOf(error);
    const problem: PreflightProblem = {
      side: 'target',
      address,
      code: 'PREFLIGHT_TARGET_NOT_WRITABLE',
      message: `target node ${address} refused a write: ${reason}`,
      fix: /NOPERM/i.test(reason)
        ? 'grant target.username write access (+@write on all keys)'
        : /READONLY/i.test(reason) || info.get('role') !== 'master'
          ? 'point target.seeds at the master, not a replica'
          : 'make the target accept writes (memory, ACL, cluster state)',
    };
    return { extra: { writable: false }, problems: [problem] };
  }
}

function keyFor(node: NodeToCheck): string {
  const base = `${PREFLIGHT_KEY_PREFIX}${randomBytes(6).toString('hex')}`;
  if (!node.nodeId || node.slots.length === 0) return base;
  // Only a key of a slot this master serves can be written here without a MOVED.
  for (let attempt = 0; attempt < 100_000; attempt++) {
    const key = `${base}:{${attempt}}`;
    const slot = keySlotOf(key);
    if (node.slots.some(([first, last]) => slot >= first && slot <= last)) return key;
  }
  return base;
}
