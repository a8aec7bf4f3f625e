/**
 * Hand-written OpenAPI 3.1 description of the coordinator's HTTP API (served at /openapi.json). Kept next to the
 * routes it describes; the test checks every documented path answers.
 */
import { hostPort, planSchemaDocument, slotRanges } from './openapi-plan.js';
import { verificationPaths, verificationSchemas } from './openapi-verification.js';
import { capsPaths, capsSchemas, shardCapsProperties } from './openapi-caps.js';
import { dashboardPaths } from './dashboard/openapi-dashboard.js';

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
      ...capsSchemas,
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
      Plan: planSchemaDocument,
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
          ...shardCapsProperties,
          consistency: {
            type: 'object',
            description:
              'the continuous consistency monitor (plan option `consistency`), when enabled: keys compared, ' +
              'confirmed mismatches (the first `maxListed` listed), keys in flight or unsettled, passes, error',
            properties: {
              checked: { type: 'integer' },
              inFlight: { type: 'integer' },
              unsettled: { type: 'integer' },
              mismatches: { type: 'integer' },
              passes: { type: 'integer' },
              error: { type: 'string' },
              listed: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    key: { type: 'string' },
                    db: { type: 'integer' },
                    kind: { enum: ['missing', 'extra', 'type', 'value', 'ttl'] },
                    at: { type: 'integer', description: 'unix ms it was confirmed' },
                  },
                },
              },
            },
          },
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
    ...capsPaths,
    ...dashboardPaths,
    '/v1/plans': {
      post: {
        summary:
          'Submit a plan: preflight it, discover the source shards and queue one job per shard (only the ' +
          'canaries first when the plan has a rollout)',
        security: bearer,
        parameters: [
          {
            name: 'replace',
            in: 'query',
            required: false,
            schema: { enum: ['true', 'false', '1', '0'] },
            description:
              'true: a stored plan of the same name is stopped and deleted (jobs, controls, checkpoints) and this ' +
              'one takes its place, starting with a full sync (409 PLAN_RUNNING while one of its shards still runs)',
          },
        ],
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
          '409': {
            ...problem,
            description:
              'PLAN_NAME_IN_USE: a stored plan (any state) has this name; resume it, delete it, or submit with ' +
              '?replace=true. PLAN_RUNNING: with replace, a shard of the stored plan still runs (it was told to stop)',
          },
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
                    state: {
                      enum: ['active', 'stopped', 'cut-over', 'completed'],
                      description:
                        '`cut-over` is final (resume and retry answer 409 PLAN_CUT_OVER); `completed`: a `mode: ' +
                        '"full"` plan whose every shard completed its full sync',
                    },
                    plan: { description: 'the plan as stored (secrets are references only)', type: 'object' },
                    rollout: { $ref: '#/components/schemas/Rollout' },
                    caps: { $ref: '#/components/schemas/PlanCaps' },
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
        summary:
          'Tell every shard to stop (workers finish their jobs gracefully); a cut-over plan stays `cut-over` ' +
          '(the answer gives the state)',
        security: bearer,
        responses: { '202': accepted, '401': problem, '404': problem },
      },
    },
    '/v1/plans/{id}/resume': {
      parameters: [planId],
      post: {
        summary: 'Tell every shard to run and re-queue stopped or failed shard jobs',
        security: bearer,
        responses: {
          '202': accepted,
          '401': problem,
          '404': problem,
          '409': { ...problem, description: 'PLAN_CUT_OVER: the plan was cut over and is final' },
        },
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
            description:
              'the shard job waits or runs (SHARD_NOT_FINISHED), waits for the canary rollout (ROLLOUT_PENDING), ' +
              'or the plan was cut over and is final (PLAN_CUT_OVER)',
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
