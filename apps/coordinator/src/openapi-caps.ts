/**
 * OpenAPI pieces of the rate caps (issue 13): the `caps` plan field, `PUT /v1/plans/{id}/caps`, and what a shard
 * reports about its caps and its source's output buffer. Spread into openapi.ts.
 */

const rate = (what: string) => ({ type: 'integer', minimum: 1, description: `${what}; absent = no cap` });

const rateCaps = {
  type: 'object',
  additionalProperties: false,
  properties: {
    opsPerSecond: rate('keys restored + stream commands handed to the target per second'),
    bytesPerSecond: rate('replication-stream bytes read from the source per second (the RDB included)'),
  },
};

/** The plan's `caps` field (also the body of PUT /v1/plans/{id}/caps). */
export const planCapsDocument = {
  ...rateCaps,
  description:
    'rate and bandwidth caps on the target writes, changeable live with PUT /v1/plans/{id}/caps. A plan-wide ' +
    "cap is divided evenly among the plan's shards; `perShard` (by shard id) overrides it field by field. " +
    'Default: none (unlimited)',
  properties: {
    ...rateCaps.properties,
    perShard: { type: 'object', additionalProperties: { $ref: '#/components/schemas/RateCaps' } },
  },
};

export const capsSchemas = {
  RateCaps: rateCaps,
  PlanCaps: planCapsDocument,
  ShardRateCap: {
    type: 'object',
    description: 'the caps in force on the shard (null = none) and whether it holds its source back for them',
    properties: {
      opsPerSecond: { type: ['integer', 'null'] },
      bytesPerSecond: { type: ['integer', 'null'] },
      throttled: { type: 'boolean', description: 'waiting for a cap now' },
      throttledMs: { type: 'integer', description: 'ms waited for a cap since the worker took the shard' },
    },
  },
  SourceOutputBuffer: {
    type: 'object',
    description:
      "bytes the source holds for this shard and the worker has not read (the source's offset minus the offset " +
      'read, sampled), next to the client-output-buffer-limit replica Redis drops the link at',
    properties: {
      backlogBytes: { type: ['integer', 'null'] },
      limitBytes: { type: ['integer', 'null'] },
      warning: { type: 'boolean', description: 'backlogBytes passed half of limitBytes' },
    },
  },
};

/** Properties a ShardStatus gains. */
export const shardCapsProperties = {
  rateCap: { $ref: '#/components/schemas/ShardRateCap' },
  outputBuffer: { $ref: '#/components/schemas/SourceOutputBuffer' },
};

const problem = {
  description: 'RFC 9457 problem details',
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
};

export const capsPaths = {
  '/v1/plans/{id}/caps': {
    parameters: [
      { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^[a-z0-9]{1,32}$' } },
    ],
    get: {
      summary: 'The caps in force on the plan',
      security: [{ bearer: [] }],
      responses: {
        '200': {
          description: 'the caps ({} when none)',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/PlanCaps' } } },
        },
        '401': problem,
        '404': problem,
      },
    },
    put: {
      summary:
        'Replace the caps of a running plan: workers apply them within a round trip (at most a poll interval, 3 s), ' +
        'without a resync. `{}` lifts every cap',
      security: [{ bearer: [] }],
      requestBody: {
        required: true,
        content: { 'application/json': { schema: { $ref: '#/components/schemas/PlanCaps' } } },
      },
      responses: {
        '200': {
          description: 'the caps now in force',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/PlanCaps' } } },
        },
        '400': { ...problem, description: 'REQUEST_INVALID, or PLAN_CAPS_SHARD_UNKNOWN' },
        '401': problem,
        '404': problem,
      },
    },
  },
};
