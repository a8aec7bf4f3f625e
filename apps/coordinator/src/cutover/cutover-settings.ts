import { z } from 'zod';
import { verifyRequestSchema } from '../verification/verify-settings.js';

/** Body of POST /v1/plans/:id/cutover (every field optional). */
export const cutoverRequestSchema = z.strictObject({
  /**
   * Pause writes on every source master with CLIENT PAUSE WRITE for the cutover (renewed while it runs, always
   * lifted at its end). When the source refuses it, the cutover waits for the operator's confirmation instead.
   * @defaultValue false
   */
  pauseSource: z.boolean().optional(),
  /** The operator has already stopped the writes: no confirmation is waited for. @defaultValue false */
  writesStopped: z.boolean().optional(),
  /** wait for the confirmation (POST .../cutover/confirm). @defaultValue 900000 (15 min) */
  confirmTimeoutMs: z.number().int().min(1000).optional(),
  /** wait for every shard's acknowledged offset to reach its master's. @defaultValue 300000 (5 min) */
  catchUpTimeoutMs: z.number().int().min(1000).optional(),
  /** wait for the full verification. @defaultValue 3600000 (1 h) */
  verifyTimeoutMs: z.number().int().min(1000).optional(),
  /** wait for every shard job to stop. @defaultValue 120000 (2 min) */
  stopTimeoutMs: z.number().int().min(1000).optional(),
  /** settings of the full verification (its level is always `full`) */
  verify: verifyRequestSchema.omit({ level: true, timeoutMs: true }).optional(),
});

export type CutoverRequest = z.infer<typeof cutoverRequestSchema>;
