import { z } from 'zod';
import { parseHostPort } from './host-port.js';

const endpoint = z.string().refine((text) => parseHostPort(text) !== null, {
  message: 'expected "host:port" (IPv6 as "[addr]:port") with a port in 1..65535',
});

/**
 * Announced `host:port` (what the cluster hands out) → reachable `host:port` (what this side can dial).
 * Seeds go through it too.
 */
const natMap = z
  .record(endpoint, endpoint)
  .optional()
  .describe('announced "host:port" -> reachable "host:port"');

const connection = {
  /** reachable `host:port` addresses: the node itself (standalone) or any nodes of the cluster */
  seeds: z.array(endpoint).min(1, 'give at least one reachable address'),
  /** ACL user; omitted = the default user */
  username: z.string().min(1).optional(),
  /** literal, `env:NAME` or `file:/path` (the API accepts references only) */
  password: z.string().min(1).optional(),
  /** connect with TLS. @defaultValue false */
  tls: z.boolean().default(false),
  natMap,
};

export const sourceSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('standalone'),
    ...connection,
    seeds: z
      .array(endpoint)
      .length(1, 'a standalone source has exactly one seed: the node to replicate from'),
  }),
  z.strictObject({ type: z.literal('cluster'), ...connection }),
]);

export const targetSchema = z.strictObject({
  type: z.enum(['standalone', 'cluster']),
  ...connection,
});

export const planSchema = z.strictObject({
  name: z
    .string()
    .regex(
      /^[A-Za-z0-9_.-]{1,64}$/,
      'use 1-64 letters, digits, ".", "_" or "-" (it names checkpoints and jobs)',
    ),
  source: sourceSchema,
  target: targetSchema,
});

export type Plan = z.infer<typeof planSchema>;
export type SourceSpec = z.infer<typeof sourceSchema>;
export type TargetSpec = z.infer<typeof targetSchema>;
