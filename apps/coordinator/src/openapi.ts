/**
 * Hand-written OpenAPI 3.1 description of the coordinator's HTTP API (served at /openapi.json). Kept next to the
 * routes it describes; the test checks every documented path answers.
 */
import { verificationPaths, verificationSchemas } from './openapi-verification.js';

const problem = {
  description: 'RFC 9457 problem details',
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
};
const planId = {
  name: 'id',
  in: 'path',
  required: true,
  schema: { type: 'string', pattern: '^[a-z0-9]{1,32}$' },
};
const accepted = {
  description: 'accepted; workers act on it asynchronously',
  content: { 'application/json': { schema: { type: 'object' } } },
};
const bearer = [{ bearer: [] }];
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
const hostPort = { type: 'string', description: '"host:port", IPv6 as "[addr]:port"' };
const slotRanges = {
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
const planBody = {
  required: true,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Plan' } } },
};

const document = {
  openapi: '3.1.0',
  info: {
    title: 'ShardBridge coordinator',
    version: '0.1.0',
    description:
      'Plans Redis-to-Redis syncs and queues one job per source shard. When the coordinator has an API token, ' +
      'everything under /v1 and /ui needs `Authorization: Bearer <token>` (reads included: plans name ' +
      'infrastructure); /healthz, /readyz, /metrics and /openapi.json stay open. Passwords are accepted as ' +
      'references only (env:NAME, file:/path), resolved on the worker.',
  },
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
    schemas: {
      ...verificationSchemas,
      Problem: {
        type: 'object',
        required: ['type', 'title', 'status', 'detail', 'instance', 'code'],
        properties: {
          type: { type: 'string' },
          title: { type: 'string' },
          status: { type: 'integer' },
          detail: { type: 'string' },
          instance: { type: 'string' },
          code: { type: 'string', examples: ['PLAN_INVALID', 'DISCOVERY_UNREACHABLE', 'PLAN_NOT_FOUND'] },
          errors: {
            type: 'array',
            items: {
              type: 'object',
              required: ['field', 'reason'],
              properties: { field: { type: 'string' }, reason: { type: 'string' } },
            },
          },
        },
      },
      Plan: {
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
          ...syncSettings,
        },
      },
      Rollout: {
        type: 'object',
        properties: {
          stage: { enum: ['canary', 'complete'] },
          since: { type: 'integer', description: 'unix ms the stage began' },
          canaryShards: { type: 'array', items: { type: 'string' } },
        },
      },
      PreflightProblem: {
        type: 'object',
        required: ['side', 'address', 'code', 'message', 'fix'],
        properties: {
          side: { enum: ['source', 'target'] },
          address: { type: 'string', description: 'host:port concerned, or "(plan)"' },
          code: { type: 'string', examples: ['DISCOVERY_UNREACHABLE', 'PREFLIGHT_PSYNC_FORBIDDEN'] },
          message: { type: 'string' },
          fix: { type: 'string', description: 'what to change, e.g. the natMap line to add' },
        },
      },
      PreflightReport: {
        type: 'object',
        description: 'what preflightPlan of @shardbridge/plan learnt; holds no secret',
        required: ['ok', 'durationMs', 'source', 'target', 'problems'],
        properties: {
          ok: { type: 'boolean' },
          durationMs: { type: 'integer' },
          source: {
            type: 'object',
            properties: {
              type: { enum: ['standalone', 'cluster'] },
              shards: {
                type: 'array',
                description:
                  'per master: nodeId, slots, role, announced, reachable, mappedBy, connectMs, auth, version, ' +
                  'rdbVersion, psync, replconf, replBacklogSize, error, replicaAddresses (replicas mapped elsewhere)',
                items: { type: 'object' },
              },
            },
          },
          target: {
            type: 'object',
            properties: {
              type: { enum: ['standalone', 'cluster'] },
              nodes: {
                type: 'array',
                items: { type: 'object' },
                description: 'as source shards, plus writable and nonEmptyDbs',
              },
              slotsCovered: { type: ['integer', 'null'] },
            },
          },
          problems: { type: 'array', items: { $ref: '#/components/schemas/PreflightProblem' } },
        },
      },
      PlannedShard: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          slots: slotRanges,
          announced: hostPort,
          reachable: hostPort,
          jobId: { type: 'string' },
        },
      },
      ShardStatus: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          nodeId: { type: ['string', 'null'] },
          slots: slotRanges,
          announced: hostPort,
          reachable: hostPort,
          jobId: { type: 'string' },
          addedAt: {
            type: 'integer',
            description: 'unix ms the topology watcher added the shard (scale-out)',
          },
          drainedAt: { type: 'integer', description: 'unix ms since which the shard serves no slot' },
          migrationBarriers: { type: 'integer', description: 'slot-migration barrier passes' },
          migrationBarrierTimeouts: {
            type: 'integer',
            description: 'barrier passes that gave up waiting for the other shards',
          },
          phase: {
            enum: [
              'queued',
              'connecting',
              'full-sync',
              'incremental',
              'stopping',
              'stopped',
              'completed',
              'failed',
              'missing',
            ],
          },
          jobState: { type: 'string' },
          rdbBytesDone: { type: 'integer' },
          rdbBytesTotal: { type: ['integer', 'null'] },
          keysWritten: { type: 'integer' },
          commandsApplied: { type: 'integer' },
          keysFiltered: { type: 'integer', description: 'RDB keys left out by the filter' },
          commandsFiltered: {
            type: 'integer',
            description: 'stream commands left out or split by the filter',
          },
          keysSkippedExisting: {
            type: 'integer',
            description: 'targetMode skip-existing: keys the target kept',
          },
          keysSkippedExpired: { type: 'integer', description: 'RDB keys already expired, not written' },
          sourceOffset: { type: 'integer', description: 'stream bytes, -1 before the first sync' },
          acknowledgedOffset: { type: 'integer' },
          lagBytes: { type: 'integer' },
          lagMs: { type: 'integer' },
          opsPerSecond: { type: 'number' },
          fullSyncs: { type: 'integer' },
          partialSyncs: { type: 'integer' },
          reconnects: { type: 'integer' },
          attempts: { type: 'integer' },
          workerId: { type: ['string', 'null'] },
          lastError: {
            type: ['object', 'null'],
            properties: { code: { type: 'string' }, message: { type: 'string' } },
          },
          reportedAt: { type: ['integer', 'null'] },
          scan: {
            type: 'object',
            description: 'scan mode only: SCAN + DUMP/RESTORE + keyspace notifications',
            properties: {
              phase: { enum: ['scan', 'live'] },
              keysScanned: { type: 'integer' },
              keysReread: { type: 'integer' },
              keysDeleted: { type: 'integer' },
              staleKeysDeleted: { type: 'integer' },
              notifications: { type: 'integer' },
              rescans: { type: 'integer' },
              dirtyKeys: { type: 'integer' },
            },
          },
        },
      },
    },
  },
  paths: {
    ...verificationPaths,
    '/v1/plans': {
      post: {
        summary:
          'Submit a plan: preflight it, discover the source shards and queue one job per shard (only the ' +
          'canaries first when the plan has a rollout)',
        security: bearer,
        requestBody: planBody,
        responses: {
          '201': {
            description: 'planned and queued',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: {
                    id: { type: 'string' },
                    name: { type: 'string' },
                    shards: { type: 'array', items: { $ref: '#/components/schemas/PlannedShard' } },
                  },
                },
              },
            },
          },
          '400': problem,
          '401': problem,
          '413': problem,
          '415': problem,
          '422': {
            description:
              'preflight failed (code PREFLIGHT_FAILED, `problems` lists each with side, address, code, message ' +
              'and fix; send "force": true to submit anyway) or the source cannot be discovered (code ' +
              'DISCOVERY_*); nothing queued',
            content: {
              'application/problem+json': {
                schema: {
                  allOf: [
                    { $ref: '#/components/schemas/Problem' },
                    {
                      type: 'object',
                      properties: {
                        problems: { type: 'array', items: { $ref: '#/components/schemas/PreflightProblem' } },
                      },
                    },
                  ],
                },
              },
            },
          },
        },
      },
      get: {
        summary: 'List plans with a phase summary',
        security: bearer,
        responses: { '200': { description: 'plans, oldest first' }, '401': problem },
      },
    },
    '/v1/discover': {
      post: {
        summary: 'Preflight a plan without queueing anything: per-shard reachability, AUTH, versions, PSYNC',
        security: bearer,
        requestBody: planBody,
        responses: {
          '200': {
            description: 'the report, whether or not it is ok',
            content: { 'application/json': { schema: { $ref: '#/components/schemas/PreflightReport' } } },
          },
          '400': problem,
          '401': problem,
          '413': problem,
          '415': problem,
        },
      },
    },
    '/v1/plans/{id}': {
      parameters: [planId],
      get: {
        summary: 'A plan and the status of each shard',
        security: bearer,
        responses: {
          '200': {
            description: 'the plan',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: {
                    id: { type: 'string' },
                    name: { type: 'string' },
                    createdAt: { type: 'string', format: 'date-time' },
                    state: { enum: ['active', 'stopped'] },
                    rollout: { $ref: '#/components/schemas/Rollout' },
                    phases: { type: 'object', additionalProperties: { type: 'integer' } },
                    shards: { type: 'array', items: { $ref: '#/components/schemas/ShardStatus' } },
                    topologyEvents: {
                      type: 'array',
                      description:
                        'resharding of a cluster source seen by the topology watcher, oldest first (at most 200)',
                      items: {
                        type: 'object',
                        properties: {
                          at: { type: 'integer', description: 'unix ms' },
                          kind: { enum: ['slots-moved', 'shard-added', 'shard-drained'] },
                          from: { type: 'string', description: 'shard that served the slots' },
                          to: { type: 'string', description: 'shard that serves them now' },
                          slots: slotRanges,
                        },
                      },
                    },
                  },
                },
              },
            },
          },
          '401': problem,
          '404': problem,
        },
      },
      delete: {
        summary: 'Stop the plan and, once no shard runs, remove its jobs, controls and checkpoints',
        security: bearer,
        responses: {
          '204': { description: 'deleted' },
          '401': problem,
          '404': problem,
          '409': { ...problem, description: 'a shard still runs; it was told to stop, delete again later' },
        },
      },
    },
    '/v1/plans/{id}/stop': {
      parameters: [planId],
      post: {
        summary: 'Tell every shard to stop (workers finish their jobs gracefully)',
        security: bearer,
        responses: { '202': accepted, '401': problem, '404': problem },
      },
    },
    '/v1/plans/{id}/resume': {
      parameters: [planId],
      post: {
        summary: 'Tell every shard to run and re-queue stopped or failed shard jobs',
        security: bearer,
        responses: { '202': accepted, '401': problem, '404': problem },
      },
    },
    '/v1/plans/{id}/shards/{shard}/retry': {
      parameters: [
        planId,
        {
          name: 'shard',
          in: 'path',
          required: true,
          schema: { type: 'string' },
          description: 'shard id or its index',
        },
      ],
      post: {
        summary: 'Re-queue one failed or stopped shard',
        security: bearer,
        responses: {
          '202': accepted,
          '401': problem,
          '404': problem,
          '409': {
            ...problem,
            description: 'the shard job waits or runs, or waits for the canary rollout (ROLLOUT_PENDING)',
          },
        },
      },
    },
    '/healthz': {
      get: { summary: 'Liveness', responses: { '200': { description: 'the process answers' } } },
    },
    '/readyz': {
      get: {
        summary: 'Readiness: the queue Redis answers PING',
        responses: { '200': { description: 'ready' }, '503': problem },
      },
    },
    '/metrics': {
      get: {
        summary: 'Prometheus metrics (per-shard gauges labelled plan and shard, queue depth, workers)',
        responses: { '200': { description: 'text exposition format', content: { 'text/plain': {} } } },
      },
    },
    '/openapi.json': {
      get: { summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1' } } },
    },
    '/ui': {
      get: {
        summary:
          'Queue UI (bull-board). Bearer token, or open /ui?token=<token> once to get a session cookie',
        security: bearer,
        responses: { '200': { description: 'HTML' }, '303': { description: 'cookie set' }, '401': problem },
      },
    },
  },
} as const;

const rateLimited = {
  description:
    "too many changing requests from this address (code RATE_LIMITED; see the coordinator's --rate-limit); " +
    'retry after the `Retry-After` seconds',
  headers: { 'Retry-After': { schema: { type: 'integer', minimum: 0 } } },
  content: problem.content,
};

/** Every mutating /v1 operation can be answered 429 by the rate limit (see rate-limit.ts). */
function withRateLimit<T extends { paths: Record<string, object> }>(doc: T): T {
  const paths = Object.fromEntries(
    Object.entries(doc.paths).map(([path, operations]) => [
      path,
      Object.fromEntries(
        Object.entries(operations).map(([method, operation]: [string, { responses?: object }]) => [
          method,
          path.startsWith('/v1/') && ['post', 'put', 'patch', 'delete'].includes(method)
            ? { ...operation, responses: { ...operation.responses, '429': rateLimited } }
            : operation,
        ]),
      ),
    ]),
  );
  return { ...doc, paths };
}

export const openApiDocument = withRateLimit(document);
