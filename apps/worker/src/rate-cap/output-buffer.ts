import { OUTPUT_BUFFER_WARNING_RATIO, type SourceOutputBuffer } from '@shardbridge/plan';

/**
 * The output buffer report of a shard: `backlogBytes` the source holds for it (source offset − offset read, at the
 * last sample), next to the limit past which Redis drops the link; the warning is raised at half the limit.
 */
export function outputBufferOf(backlogBytes: number | null, limitBytes: number | null): SourceOutputBuffer {
  const warning =
    backlogBytes !== null && limitBytes !== null && backlogBytes > limitBytes * OUTPUT_BUFFER_WARNING_RATIO;
  return { backlogBytes, limitBytes, warning };
}
