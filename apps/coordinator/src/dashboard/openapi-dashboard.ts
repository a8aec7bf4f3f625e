/** OpenAPI pieces of the plan dashboard: its lag history route and its static page. Spread into openapi.ts. */

const problem = {
  description: 'RFC 9457 problem details',
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
};

const sample = {
  type: 'object',
  properties: {
    at: { type: 'integer', description: 'unix ms the coordinator took the sample' },
    lagBytes: { type: 'integer' },
    lagMs: { type: 'integer' },
    opsPerSecond: { type: 'number' },
    sourceOffset: { type: 'integer', description: '-1 before the first report' },
    acknowledgedOffset: { type: 'integer' },
  },
};

export const dashboardPaths = {
  '/v1/plans/{id}/history': {
    parameters: [
      { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
      {
        name: 'since',
        in: 'query',
        required: false,
        schema: { type: 'integer', minimum: 0 },
        description: 'unix ms: only samples taken after it (400 QUERY_INVALID otherwise)',
      },
    ],
    get: {
      summary:
        "The shards' lag and ops/s of the last hour, sampled every few seconds (historyIntervalMs) while the plan " +
        "is active. Kept in the coordinator's memory: empty again after it restarts",
      security: [{ bearer: [] }],
      responses: {
        '200': {
          description: 'samples per shard id, oldest first',
          content: {
            'application/json': {
              schema: {
                type: 'object',
                properties: {
                  id: { type: 'string' },
                  windowMs: { type: 'integer' },
                  now: { type: 'integer', description: "the coordinator's clock, unix ms" },
                  shards: { type: 'object', additionalProperties: { type: 'array', items: sample } },
                },
              },
            },
          },
        },
        '400': problem,
        '401': problem,
        '404': problem,
      },
    },
  },
  '/dashboard/': {
    get: {
      summary:
        'The plan dashboard: a static page (no data, no token needed) that asks for the API token and reads /v1 ' +
        'with it. `/` redirects here',
      responses: { '200': { description: 'HTML' } },
    },
  },
};
