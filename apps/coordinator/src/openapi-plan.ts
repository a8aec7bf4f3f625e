/** The Plan schema of the OpenAPI document: what POST /v1/plans and /v1/discover accept (mirrors plan-schema.ts). */

const dbList = { type: 'array', items: { type: 'integer', minimum: 0, maximum: 65535 } };
/** The plan fields of packages/plan/src/sync-settings.ts. */
const syncSettings = {
  mode: {
    enum: ['sync', 'full', 'scan', 'rdb'],
    default: 'sync',
    description:
      'sync = full sync then the live stream until stopped; full = one full sync, the shard completes once the ' +
      'target confirmed the RDB (phase "completed")',
  },
  targetMode: {
    enum: ['replace', 'flush-first', 'fail-if-not-empty', 'skip-existing'],
    default: 'replace',
    description:
      'keys already in the target: replaced (RESTORE REPLACE), flushed first (needs confirm: true and a ' +
      'standalone source), refused (TARGET_NOT_EMPTY), or kept (RESTORE without REPLACE, counted)',
  },
  confirm: { type: 'boolean', default: false, description: 'consent to targetMode "flush-first"' },
  filter: {
    type: 'object',
    additionalProperties: false,
    description: 'what reaches the target, applied alike to the RDB and to the command stream',
    properties: {
      dbs: {
        oneOf: [
          { type: 'object', additionalProperties: false, required: ['allow'], properties: { allow: dbList } },
          { type: 'object', additionalProperties: false, required: ['deny'], properties: { deny: dbList } },
        ],
      },
      keys: {
        type: 'object',
        additionalProperties: false,
        description:
          'a key matches when it starts with a prefix or matches regex (tested on the key as UTF-8)',
        properties: {
          prefixes: { type: 'array', items: { type: 'string', minLength: 1 } },
          regex: { type: 'string', description: 'JavaScript regular expression, "u" flag' },
          mode: { enum: ['allow', 'deny'], default: 'allow' },
        },
      },
      commands: {
        type: 'object',
        additionalProperties: false,
        properties: {
          deny: { type: 'array', items: { type: 'string' }, examples: [['FLUSHALL', 'FLUSHDB']] },
        },
      },
      dbMap: {
        type: 'object',
        additionalProperties: { type: 'integer', minimum: 0 },
        description: 'source db (decimal string) -> target db; a cluster target takes db 0 only',
        examples: [{ '3': 0 }],
      },
      multiKeyPolicy: {
        enum: ['split', 'error'],
        default: 'error',
        description:
          'a command with keys on both sides of the key filter: fail the shard (FILTER_MULTI_KEY), or keep the ' +
          'allowed keys of DEL, UNLINK, EXISTS, TOUCH, MSET, MSETNX',
      },
    },
  },
};
export const hostPort = { type: 'string', description: '"host:port", IPv6 as "[addr]:port"' };
export const slotRanges = {
  type: 'array',
  items: { type: 'array', items: { type: 'integer', minimum: 0, maximum: 16383 }, minItems: 2, maxItems: 2 },
};
const connection = {
  seeds: { type: 'array', items: hostPort, minItems: 1 },
  username: { type: 'string' },
  password: {
    type: 'string',
    pattern: '^(env:[A-Za-z_][A-Za-z0-9_]*|file:/.+)$',
    description: 'a reference only',
  },
  tls: {
    oneOf: [
      { type: 'boolean' },
      {
        type: 'object',
        additionalProperties: false,
        properties: {
          ca: { type: 'string', description: 'PEM or file:/path' },
          cert: { type: 'string', description: 'PEM or file:/path' },
          key: { type: 'string', description: 'PEM, file:/path or env:NAME; give a reference over the API' },
          servername: { type: 'string' },
          rejectUnauthorized: { type: 'boolean', default: true },
        },
      },
    ],
    default: false,
  },
  natMap: { type: 'object', additionalProperties: hostPort, description: 'announced -> reachable' },
  natRules: {
    type: 'array',
    description: 'ordered rewriting rules for announced addresses natMap does not name',
    items: {
      type: 'object',
      additionalProperties: false,
      required: ['match', 'host'],
      properties: {
        match: { type: 'string', description: 'CIDR, "*.suffix" or an exact host' },
        host: { type: 'string' },
        port: {
          oneOf: [
            { const: 'same' },
            { type: 'object', required: ['offset'], properties: { offset: { type: 'integer' } } },
            {
              type: 'object',
              required: ['map'],
              properties: { map: { type: 'object', additionalProperties: { type: 'integer' } } },
            },
          ],
          default: 'same',
        },
      },
    },
  },
  natDiscover: {
    type: 'array',
    items: hostPort,
    description: 'reachable addresses matched to topology nodes by CLUSTER MYID',
  },
};
const sourceExtras = {
  shards: {
    type: 'array',
    minItems: 1,
    description: "manual mode: every master's reachable address (together covering all 16384 slots)",
    items: {
      type: 'object',
      additionalProperties: false,
      required: ['reachable'],
      properties: { reachable: hostPort, slots: { type: 'array' } },
    },
  },
  readFrom: { enum: ['master', 'replica', 'prefer-replica'], default: 'master' },
  configureSource: {
    type: 'boolean',
    default: false,
    description:
      'scan mode: may the worker CONFIG SET notify-keyspace-events on source nodes where it is off',
  },
};
export const planSchemaDocument = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'source', 'target'],
  properties: {
    name: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$' },
    source: {
      type: 'object',
      additionalProperties: false,
      required: ['type', 'seeds'],
      properties: { type: { enum: ['standalone', 'cluster'] }, ...connection, ...sourceExtras },
    },
    target: {
      type: 'object',
      additionalProperties: false,
      required: ['type', 'seeds'],
      properties: {
        type: { enum: ['standalone', 'cluster'] },
        ...connection,
        rewrite: {
          enum: ['auto', 'always', 'never'],
          default: 'auto',
          description:
            'full sync: RESTORE payloads (never), rebuild every key with commands (always), or rebuild only ' +
            'when the target is too old to load the source RDB version (auto)',
        },
        crossSlot: {
          enum: ['split', 'error'],
          default: 'split',
          description:
            'cluster target: run DEL/UNLINK/TOUCH/MSET whose keys span slots per slot (split) or fail the shard',
        },
        bigKeyThreshold: {
          type: 'integer',
          minimum: 65536,
          default: 67108864,
          description:
            'RDB bytes above which a key is written in command batches into a scratch key and RENAMEd ' +
            'into place instead of one RESTORE (bounds worker memory)',
        },
        window: {
          type: 'object',
          additionalProperties: false,
          description:
            "the target writer's in-flight window: grows to the link's bandwidth-delay product up to the " +
            'maximums and shrinks when the target slows down; adaptive false fixes it at the maximums',
          properties: {
            maxCommands: { type: 'integer', minimum: 1, default: 100000 },
            maxBytes: { type: 'integer', minimum: 65536, default: 67108864 },
            adaptive: { type: 'boolean', default: true },
          },
        },
      },
    },
    rollout: {
      type: 'object',
      additionalProperties: false,
      required: ['healthyFor', 'maxLagMs'],
      description:
        'canary rollout: queue `canary` shards first, the rest once each canary held incremental sync ' +
        'with lagMs <= maxLagMs for healthyFor without a break',
      properties: {
        canary: { type: 'integer', minimum: 1, default: 1 },
        healthyFor: { type: 'string', examples: ['30s', '2m', '1500ms'] },
        maxLagMs: { type: 'integer', minimum: 0 },
      },
    },
    force: {
      type: 'boolean',
      default: false,
      description: 'accept the plan even when preflight finds problems',
    },
    caps: { $ref: '#/components/schemas/PlanCaps' },
    consistency: {
      type: 'object',
      additionalProperties: false,
      description:
        'continuous consistency monitor during the live stream (off by default): each shard compares its keys ' +
        'with the target at keysPerSecond and reports confirmed mismatches',
      properties: {
        enabled: { type: 'boolean', default: false },
        keysPerSecond: { type: 'number', exclusiveMinimum: 0, maximum: 10000, default: 20 },
        ttlToleranceMs: { type: 'integer', minimum: 0, default: 5000 },
        maxListed: { type: 'integer', minimum: 0, maximum: 1000, default: 20 },
      },
    },
    ...syncSettings,
  },
};
