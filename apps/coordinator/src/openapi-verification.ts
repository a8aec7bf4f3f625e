/**
 * OpenAPI 3.1 paths and schemas of verification and cutover (merged into openapi.ts). The report shapes are
 * VerificationReport of @shardbridge/plan and CutoverReport of cutover/cutover-report.ts.
 */
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
const bearer = [{ bearer: [] }];
const download = {
  name: 'download',
  in: 'query',
  required: false,
  schema: { type: 'string' },
  description: 'present: answered as an attachment (Content-Disposition), for saving the report',
};
const busy = {
  ...problem,
  description: 'PLAN_BUSY: a verification or cutover of the plan is running; SOURCE_NOT_LIVE: an RDB import',
};
const differenceTotals = {
  missing: { type: 'integer' },
  extra: { type: 'integer' },
  type: { type: 'integer' },
  value: { type: 'integer' },
  ttl: { type: 'integer' },
};
const verifyOptions = {
  sampleSize: {
    type: 'integer',
    minimum: 1,
    default: 1000,
    description: 'random keys per shard (level sample)',
  },
  rounds: {
    type: 'integer',
    minimum: 1,
    maximum: 20,
    default: 3,
    description: 'passes over differing keys; only keys differing in every pass are reported',
  },
  roundDelayMs: { type: 'integer', minimum: 0, default: 2000, description: 'pause before each re-check' },
  ttlToleranceMs: { type: 'integer', minimum: 0, default: 5000 },
  maxDifferences: {
    type: 'integer',
    minimum: 0,
    maximum: 10000,
    default: 100,
    description: 'listed; totals count all',
  },
  bigKeyBytes: {
    type: 'integer',
    minimum: 1024,
    default: 1048576,
    description: 'keys larger than this (MEMORY USAGE) are compared by ranges, never DUMPed',
  },
};

export const verificationSchemas = {
  VerifyRequest: {
    type: 'object',
    additionalProperties: false,
    properties: {
      level: {
        enum: ['count', 'sample', 'full'],
        default: 'full',
        description:
          'count = keys per db (per slot range on a cluster); sample = sampleSize random keys per shard; full = ' +
          'every key (type, TTL, value) plus the target keys of the shard’s slots the source lacks',
      },
      ...verifyOptions,
      timeoutMs: { type: 'integer', minimum: 1000, default: 3600000, description: 'wait for every shard' },
    },
  },
  KeySummary: {
    type: 'object',
    properties: {
      type: { type: 'string', description: '"none" = absent' },
      ttlMs: { type: 'integer', description: '-1 no expiry, -2 absent' },
      length: { type: 'integer' },
    },
  },
  KeyDifference: {
    type: 'object',
    properties: {
      key: { type: 'string', description: 'UTF-8, or base64:<…> for a binary key' },
      db: { type: 'integer' },
      shard: { type: 'string' },
      kind: { enum: ['missing', 'extra', 'type', 'value', 'ttl'] },
      source: { $ref: '#/components/schemas/KeySummary' },
      target: { $ref: '#/components/schemas/KeySummary' },
      detail: { type: 'string' },
    },
  },
  VerificationReport: {
    type: 'object',
    properties: {
      id: { type: 'string' },
      planId: { type: 'string' },
      settings: { type: 'object' },
      status: { enum: ['running', 'clean', 'differences', 'failed'] },
      reason: { type: 'string', description: 'why failed (a shard that could not be read, a timeout)' },
      startedAt: { type: 'string', format: 'date-time' },
      finishedAt: { type: 'string', format: 'date-time' },
      totals: {
        type: 'object',
        properties: {
          ...differenceTotals,
          keysCompared: { type: 'integer' },
          targetKeysChecked: { type: 'integer' },
        },
      },
      differences: { type: 'array', items: { $ref: '#/components/schemas/KeyDifference' } },
      truncated: { type: 'boolean' },
      shards: {
        type: 'array',
        items: {
          type: 'object',
          description:
            'shardId, status (clean | differences | error), keysCompared, targetKeysChecked, counts [{db, source, ' +
            'target}], totals, roundsRun, transient (differed then agreed), versions {source, target}, error',
        },
      },
    },
  },
  CutoverRequest: {
    type: 'object',
    additionalProperties: false,
    properties: {
      pauseSource: {
        type: 'boolean',
        default: false,
        description:
          'CLIENT PAUSE WRITE on every source master (30 s, renewed while the cutover runs, lifted at its end); ' +
          'refused by the source = wait for the confirmation instead (warning in the report)',
      },
      writesStopped: {
        type: 'boolean',
        default: false,
        description: 'writes already stopped: no confirmation',
      },
      confirmTimeoutMs: { type: 'integer', minimum: 1000, default: 900000 },
      catchUpTimeoutMs: { type: 'integer', minimum: 1000, default: 300000 },
      verifyTimeoutMs: { type: 'integer', minimum: 1000, default: 3600000 },
      stopTimeoutMs: { type: 'integer', minimum: 1000, default: 120000 },
      verify: { type: 'object', properties: verifyOptions, description: 'settings of the full verification' },
    },
  },
  CutoverReport: {
    type: 'object',
    properties: {
      id: { type: 'string' },
      planId: { type: 'string' },
      status: {
        enum: [
          'pausing',
          'waiting-for-confirmation',
          'catching-up',
          'verifying',
          'stopping',
          'cut-over',
          'failed',
        ],
      },
      reason: { type: 'string', description: '`<step>: <why>` when failed' },
      startedAt: { type: 'string', format: 'date-time' },
      finishedAt: { type: 'string', format: 'date-time' },
      writesStoppedBy: { enum: ['client-pause', 'operator'] },
      steps: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            step: { type: 'string' },
            startedAt: { type: 'string' },
            finishedAt: { type: 'string' },
          },
        },
      },
      shards: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            shardId: { type: 'string' },
            masterOffset: { type: 'integer' },
            acknowledgedOffset: { type: 'integer' },
            keysWritten: { type: 'integer' },
          },
        },
      },
      keys: { type: 'integer', description: 'source keys the verification compared' },
      verification: {
        type: 'object',
        properties: { id: { type: 'string' }, status: { type: 'string' }, totals: { type: 'object' } },
      },
      warnings: { type: 'array', items: { type: 'string' } },
    },
  },
} as const;

const json = (schema: string) => ({
  'application/json': { schema: { $ref: `#/components/schemas/${schema}` } },
});

export const verificationPaths = {
  '/v1/plans/{id}/verify': {
    parameters: [planId],
    post: {
      summary: 'Start a verification: one job per shard on the workers (queue shardbridge-verify)',
      security: bearer,
      requestBody: { required: false, content: json('VerifyRequest') },
      responses: {
        '202': { description: 'started; poll the Location', content: json('VerificationReport') },
        '400': problem,
        '401': problem,
        '404': problem,
        '409': busy,
      },
    },
  },
  '/v1/plans/{id}/verification': {
    parameters: [planId, download],
    get: {
      summary: 'The latest verification report of the plan (running or finished)',
      security: bearer,
      responses: {
        '200': { description: 'the report', content: json('VerificationReport') },
        '401': problem,
        '404': { ...problem, description: 'no such plan, or VERIFICATION_NOT_FOUND' },
      },
    },
  },
  '/v1/plans/{id}/cutover': {
    parameters: [planId, download],
    post: {
      summary:
        'Start the cutover: stop writes, wait for lag 0, verify in full, stop every shard, mark cut-over',
      security: bearer,
      requestBody: { required: false, content: json('CutoverRequest') },
      responses: {
        '202': { description: 'started; poll the Location', content: json('CutoverReport') },
        '400': problem,
        '401': problem,
        '404': problem,
        '409': {
          ...problem,
          description:
            'PLAN_BUSY, PLAN_STOPPED (resume first), PLAN_CUT_OVER, ROLLOUT_PENDING or SOURCE_NOT_LIVE',
        },
      },
    },
    get: {
      summary: 'The latest cutover report of the plan (in progress or final)',
      security: bearer,
      responses: {
        '200': { description: 'the report', content: json('CutoverReport') },
        '401': problem,
        '404': { ...problem, description: 'no such plan, or CUTOVER_NOT_FOUND' },
      },
    },
  },
  '/v1/plans/{id}/cutover/confirm': {
    parameters: [planId],
    post: {
      summary: 'Confirm that writes to the source stopped (a cutover without pauseSource waits for it)',
      security: bearer,
      responses: {
        '202': { description: 'confirmed' },
        '401': problem,
        '404': problem,
        '409': { ...problem, description: 'CUTOVER_NOT_WAITING' },
      },
    },
  },
} as const;
