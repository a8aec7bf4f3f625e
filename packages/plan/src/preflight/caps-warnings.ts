import type { Plan } from '../plan-schema.js';
import { hasCaps } from '../rate-caps.js';
import type { PreflightProblem, PreflightSourceNode } from './preflight-report.js';

const MIB = 1024 * 1024;

/**
 * A plan with rate caps makes its source buffer what the caps hold back, in each replica's output buffer, and Redis
 * drops a replica whose buffer passes `client-output-buffer-limit replica` (a full resync follows). One warning
 * per source master with the limit it will drop the link at; never a reason to refuse the plan.
 */
export function capsWarnings(plan: Plan, shards: readonly PreflightSourceNode[]): PreflightProblem[] {
  if (!hasCaps(plan.caps)) return [];
  return shards
    .filter((shard) => shard.error === null)
    .map((shard) => {
      const limit = shard.replicaOutputBufferLimit;
      const said =
        limit === undefined || limit === 'unknown'
          ? 'its client-output-buffer-limit could not be read (CONFIG GET refused; Redis defaults to 256 MiB hard, 64 MiB for 60 s)'
          : limit === null
            ? 'it sets no client-output-buffer-limit for replicas (the buffer grows in its memory instead)'
            : `it drops a replica whose output buffer passes ${(limit / MIB).toFixed(1)} MiB (client-output-buffer-limit replica)`;
      return {
        side: 'source' as const,
        address: shard.announced,
        code: 'PREFLIGHT_CAPS_OUTPUT_BUFFER',
        message:
          `the plan caps its writes: source node ${shard.announced} keeps what the caps hold back in this ` +
          `shard's replica output buffer, and ${said}; a write burst larger than that above the cap breaks the ` +
          'link and forces a full resync',
        fix:
          "keep the caps above the source's sustained write rate, or raise the limit on the source " +
          '(CONFIG SET client-output-buffer-limit "replica 1gb 512mb 60"); status warns once a shard\'s buffer ' +
          'passes half of it',
      };
    });
}
