import { z } from 'zod';
import { DEFAULT_VERIFY_SETTINGS, type VerifySettings } from '@shardbridge/plan';

/** Body of POST /v1/plans/:id/verify (every field optional; see VerifySettings for the defaults). */
export const verifyRequestSchema = z.strictObject({
  level: z.enum(['count', 'sample', 'full']).optional(),
  sampleSize: z.number().int().min(1).max(1_000_000).optional(),
  rounds: z.number().int().min(1).max(20).optional(),
  roundDelayMs: z.number().int().min(0).max(600_000).optional(),
  ttlToleranceMs: z.number().int().min(0).optional(),
  maxDifferences: z.number().int().min(0).max(10_000).optional(),
  bigKeyBytes: z.number().int().min(1024).optional(),
  /** how long the coordinator waits for every shard's answer. @defaultValue 3600000 (1 h) */
  timeoutMs: z.number().int().min(1000).optional(),
});

export type VerifyRequest = z.infer<typeof verifyRequestSchema>;

export const DEFAULT_VERIFY_TIMEOUT_MS = 3_600_000;

export function verifySettingsOf(request: VerifyRequest): VerifySettings {
  const { timeoutMs: _timeout, ...rest } = request;
  return { ...DEFAULT_VERIFY_SETTINGS, ...rest };
}
