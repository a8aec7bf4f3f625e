import { z } from 'zod';
import { consistencySchema } from './consistency.js';
import { planCapsSchema } from './rate-caps.js';
import { parseHostPort } from './host-port.js';
import { parseDuration } from './duration.js';
import { isNatRuleMatch } from './nat-rule-match.js';
import { dbsUnfitForCluster, filterSchema, syncModeSchema, targetModeSchema } from './sync-settings.js';

const endpoint = z.string().refine((text) => parseHostPort(text) !== null, {
  message: 'expected "host:port" (IPv6 as "[addr]:port") with a port in 1..65535',
});

const port = z.number().int().min(1).max(65535);

/**
 * Announced `host:port` (what the cluster hands out) → reachable `host:port` (what this side can dial).
 * Seeds go through it too.
 */
const natMap = z
  .record(endpoint, endpoint)
  .optional()
  .describe('announced "host:port" -> reachable "host:port"');

/**
 * One address-rewriting rule, tried in order after natMap; the first rule whose `match` fits the announced host
 * wins. `match` is an IPv4/IPv6 CIDR (`10.0.0.0/8`, `fd00::/8`), a suffix wildcard (`*.internal.example`,
 * which does not match the bare `internal.example`) or an exact host (case-insensitive).
 */
export const natRuleSchema = z.strictObject({
  match: z.string().refine(isNatRuleMatch, {
    message: 'expected a CIDR ("10.0.0.0/8"), a "*.suffix" wildcard or a host name/address',
  }),
  /** reachable host every matching node is dialled at */
  host: z.string().regex(/^[A-Za-z0-9_.:-]+$/, 'expected a host name or IP address (IPv6 without brackets)'),
  /**
   * Reachable port: the announced one (`same`), announced + `offset`, or looked up in `map` (announced port as
   * a decimal string → reachable port; an announced port missing from the map does not match the rule).
   * @defaultValue "same"
   */
  port: z
    .union([
      z.literal('same'),
      z.strictObject({ offset: z.number().int().min(-65534).max(65534) }),
      z.strictObject({ map: z.record(z.string().regex(/^\d{1,5}$/, 'expected a port number'), port) }),
    ])
    .default('same'),
});

/**
 * TLS: `true` for system CAs and server name = the announced host, or an object. `ca`/`cert`/`key` are PEM text
 * or a `file:/path` reference (`key` may also be `env:NAME`); they are read where the connection is made, so a
 * reference keeps the private key out of job data.
 */
export const tlsSchema = z.union([
  z.boolean(),
  z.strictObject({
    /** CA bundle (PEM or `file:/path`); omitted = system CAs */
    ca: z.string().min(1).optional(),
    /** client certificate (PEM or `file:/path`) */
    cert: z.string().min(1).optional(),
    /** client private key (PEM, `file:/path` or `env:NAME`); use a reference in API-submitted plans */
    key: z.string().min(1).optional(),
    /** SNI and certificate name to verify; @defaultValue the announced host when it is a name */
    servername: z.string().min(1).optional(),
    /** verify the server certificate. @defaultValue true */
    rejectUnauthorized: z.boolean().optional(),
  }),
]);

const connection = {
  /** reachable `host:port` addresses: the node itself (standalone) or any nodes of the cluster */
  seeds: z.array(endpoint).min(1, 'give at least one reachable address'),
  /** ACL user; omitted = the default user */
  username: z.string().min(1).optional(),
  /** literal, `env:NAME` or `file:/path` (the API accepts references only) */
  password: z.string().min(1).optional(),
  /** connect with TLS. @defaultValue false */
  tls: tlsSchema.default(false),
  natMap,
  /** ordered rewriting rules applied to announced addresses that natMap does not name */
  natRules: z.array(natRuleSchema).optional(),
  /**
   * Reachable `host:port` addresses to dial; each node's CLUSTER MYID ties it to a node of the topology, so no
   * mapping needs to be typed. Consulted after natMap and natRules.
   */
  natDiscover: z.array(endpoint).optional(),
};

/** Explicit shard of the manual mode: a reachable master address and, optionally, the slots it is expected to serve. */
export const manualShardSchema = z.strictObject({
  /** reachable `host:port` of the shard's master */
  reachable: endpoint,
  /** expected inclusive slot ranges; checked against what the node serves when given */
  slots: z
    .array(
      z
        .tuple([z.number().int().min(0).max(16383), z.number().int().min(0).max(16383)])
        .refine(([first, last]) => first <= last, { message: 'expected [first, last] with first <= last' }),
    )
    .optional(),
});

/**
 * Which node of a shard to replicate from.
 * @defaultValue "master"
 */
export const readFromSchema = z.enum(['master', 'replica', 'prefer-replica']).default('master');

const sourceExtras = {
  /**
   * Manual mode: the shards' reachable master addresses, validated at discovery to be masters that together
   * cover all 16384 slots. Replaces topology discovery for a cluster source.
   */
  shards: z.array(manualShardSchema).min(1).optional(),
  readFrom: readFromSchema,
  /**
   * Scan mode: allow ShardBridge to run `CONFIG SET notify-keyspace-events` on each source node whose keyspace
   * notifications are off (it adds `KA` to the flags already set and leaves them on afterwards). Without it a
   * node with notifications off fails the shard with the exact CONFIG SET line to run.
   * @defaultValue false
   */
  configureSource: z.boolean().optional(),
};

export const sourceSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('standalone'),
    ...connection,
    ...sourceExtras,
    seeds: z
      .array(endpoint)
      .length(1, 'a standalone source has exactly one seed: the node to replicate from'),
  }),
  z.strictObject({ type: z.literal('cluster'), ...connection, ...sourceExtras }),
  /**
   * An RDB file instead of a live source: its keys are RESTOREd into the target once, no replication follows.
   * `path` is read on the host that runs the import (`shardbridge run`/`import`), not where the plan was written.
   */
  z.strictObject({ type: z.literal('rdb'), path: z.string().min(1, 'give the path of the .rdb file') }),
]);

/**
 * How a full sync writes keys: `auto` RESTOREs the source's payloads unless the target is too old to load their
 * RDB version, then rebuilds each key with ordinary commands; `always` rebuilds every key; `never` always
 * RESTOREs. @defaultValue "auto"
 */
export const rewriteSchema = z.enum(['auto', 'always', 'never']).default('auto');

/** See `target.window`. */
export const targetWindowSchema = z.strictObject({
  /** commands in flight at most. @defaultValue 100000 */
  maxCommands: z.number().int().min(1).optional(),
  /** bytes of commands in flight at most: the writer's memory budget. @defaultValue 67108864 (64 MiB) */
  maxBytes: z.number().int().min(65536).optional(),
  /** grow and shrink with the link (true), or stay fixed at the maximums (false). @defaultValue true */
  adaptive: z.boolean().optional(),
});

export const targetSchema = z.strictObject({
  type: z.enum(['standalone', 'cluster']),
  ...connection,
  rewrite: rewriteSchema,
  /**
   * Bytes of RDB above which a key is written in parts (command batches into a scratch key, then RENAME) instead
   * of one RESTORE; bounds the worker's memory whatever the key's size. @defaultValue 67108864 (64 MiB)
   */
  bigKeyThreshold: z.number().int().min(65536).optional(),
  /**
   * Cluster target, a source command whose keys span slots: `split` runs DEL/UNLINK/TOUCH/MSET per slot (same
   * data, not atomic), `error` fails the shard; other multi-key commands (RENAME, …) always fail, naming the keys.
   * @defaultValue "split"
   */
  crossSlot: z.enum(['split', 'error']).optional(),
  /**
   * Standalone target: write the stream in MULTI … EXEC batches that also record (key
   * `shardbridge:applied:<shard>`, db 0) how far the stream got, so a crash never applies a command twice.
   * @defaultValue false
   */
  exactlyOnce: z.boolean().optional(),
  /**
   * The target writer's in-flight window: by default it grows to the link's bandwidth-delay product (measured from
   * its confirmations) up to `maxCommands` / `maxBytes`, and shrinks when the target slows down; `adaptive: false`
   * fixes it at those values.
   * @defaultValue { maxCommands: 100000, maxBytes: 67108864 (64 MiB), adaptive: true }
   */
  window: targetWindowSchema.optional(),
});

/** Canary rollout: start `canary` shards first, the rest once they held incremental sync for `healthyFor`. */
export const rolloutSchema = z.strictObject({
  /** shards started first. @defaultValue 1 */
  canary: z.number().int().min(1).default(1),
  /** how long the canaries must stay healthy, `"30s"`, `"2m"`, `"1500ms"`, `"1h"`; parsed to ms */
  healthyFor: z
    .string()
    .transform((text, context) => {
      const ms = parseDuration(text);
      if (ms === null) {
        context.addIssue({ code: 'custom', message: 'expected a duration like "30s", "2m", "500ms"' });
        return z.NEVER;
      }
      return ms;
    })
    .pipe(z.number()),
  /** "healthy" = incremental with a lag at most this many ms */
  maxLagMs: z.number().int().min(0),
});

const planFields = z.strictObject({
  name: z
    .string()
    .regex(
      /^[A-Za-z0-9_.-]{1,64}$/,
      'use 1-64 letters, digits, ".", "_" or "-" (it names checkpoints and jobs)',
    ),
  source: sourceSchema,
  target: targetSchema,
  rollout: rolloutSchema.optional(),
  /** accept the plan even when preflight finds problems. @defaultValue false */
  force: z.boolean().optional(),
  /** see sync-settings.ts. @defaultValue "sync" */
  mode: syncModeSchema.optional(),
  /** what a full sync does with keys already in the target (see sync-settings.ts). @defaultValue "replace" */
  targetMode: targetModeSchema.optional(),
  /** the operator's consent to a destructive `targetMode` (`flush-first`). @defaultValue false */
  confirm: z.boolean().optional(),
  /** what of the source reaches the target (see sync-settings.ts). @defaultValue everything */
  filter: filterSchema.optional(),
  /** rate and bandwidth caps on the target writes (see rate-caps.ts), changeable live. @defaultValue none */
  caps: planCapsSchema.optional(),
  /** the continuous consistency monitor (see consistency.ts). @defaultValue off */
  consistency: consistencySchema.optional(),
});

/** Rules between fields: consent to flushing, and dbs a cluster target cannot hold. */
export const planSchema = planFields.superRefine((plan, context) => {
  if (plan.targetMode === 'flush-first') {
    if (plan.confirm !== true) {
      context.addIssue({
        code: 'custom',
        path: ['confirm'],
        message: 'targetMode "flush-first" deletes every key of the target: add "confirm": true to the plan',
      });
    }
    if (plan.source.type === 'cluster') {
      context.addIssue({
        code: 'custom',
        path: ['targetMode'],
        message:
          'targetMode "flush-first" needs a standalone source (each shard of a cluster source would flush the ' +
          'others\' keys): flush the target yourself and use "replace"',
      });
    }
  }
  if (plan.target.exactlyOnce && plan.target.type !== 'standalone') {
    context.addIssue({
      code: 'custom',
      path: ['target', 'exactlyOnce'],
      message:
        'exactlyOnce needs a standalone target (a cluster target cannot record one position for every slot ' +
        'atomically); remove it: the stream is then at-least-once after a crash',
    });
  }
  if (plan.target.exactlyOnce && plan.filter?.dbMap && Object.keys(plan.filter.dbMap).length > 0) {
    context.addIssue({
      code: 'custom',
      path: ['target', 'exactlyOnce'],
      message: 'exactlyOnce cannot be combined with filter.dbMap (the recorded db would be the mapped one)',
    });
  }
  if (plan.target.type !== 'cluster') return;
  for (const [source, target] of Object.entries(plan.filter?.dbMap ?? {})) {
    if (target !== 0) {
      context.addIssue({
        code: 'custom',
        path: ['filter', 'dbMap', source],
        message: `a cluster target only has db 0: map db ${source} to 0`,
      });
    }
  }
  const dbs = plan.filter?.dbs;
  const unfit = dbs && 'allow' in dbs ? dbsUnfitForCluster(plan.filter, dbs.allow) : [];
  if (unfit.length > 0) {
    context.addIssue({
      code: 'custom',
      path: ['filter', 'dbs', 'allow'],
      message:
        `a cluster target only has db 0, but db(s) ${unfit.join(', ')} are synced: map them with ` +
        `"dbMap": {${unfit.map((db) => `"${db}": 0`).join(', ')}} or leave them out`,
    });
  }
});

export type Plan = z.infer<typeof planSchema>;
/** A plan as written (before defaults and duration parsing). */
export type PlanInput = z.input<typeof planSchema>;
export type SourceSpec = z.infer<typeof sourceSchema>;
/** A source that is a live Redis (standalone or cluster), i.e. not an RDB file. */
export type LiveSourceSpec = Exclude<SourceSpec, { type: 'rdb' }>;
/** The RDB-file source variant. */
export type RdbSourceSpec = Extract<SourceSpec, { type: 'rdb' }>;
export type TargetSpec = z.infer<typeof targetSchema>;
export type NatRule = z.infer<typeof natRuleSchema>;
export type TlsSpec = z.infer<typeof tlsSchema>;
/** The object form of {@link TlsSpec}. */
export type TlsSettings = Exclude<TlsSpec, boolean>;
export type ManualShard = z.infer<typeof manualShardSchema>;
export type ReadFrom = z.infer<typeof readFromSchema>;
export type RewritePolicy = z.infer<typeof rewriteSchema>;
/** Rollout as parsed: `healthyFor` is in ms. */
export type Rollout = z.infer<typeof rolloutSchema>;
