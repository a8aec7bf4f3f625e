import { readFile } from 'node:fs/promises';
import {
  formatPreflightReport,
  parsePlan,
  PlanValidationError,
  preflightPlan,
  type PreflightReport,
} from '@shardbridge/plan';
import { ApiClient } from '../api-client.js';
import { readApiTls, type ApiTlsFiles } from '../api-tls.js';
import { CliError, EXIT_FAILURE, EXIT_USAGE } from '../cli-error.js';

export interface DiscoverCommandOptions {
  /**
   * The coordinator's base URL: the preflight runs there (`POST /v1/discover`), from its network position.
   * Unset = the preflight runs in this process.
   * @defaultValue undefined
   */
  api?: string;
  /** run in this process even when `api` is set. @defaultValue false */
  local?: boolean;
  /** print the report as JSON instead of tables. @defaultValue false */
  json?: boolean;
  /** bound on each connect and reply of a local preflight, ms. @defaultValue 5000 */
  connectTimeoutMs?: number;
  /** where the report goes. @defaultValue process.stdout */
  write?: (text: string) => void;
  /** CA / client certificate files for an HTTPS coordinator. @defaultValue none (system CAs, no client cert) */
  apiTls?: ApiTlsFiles;
}

/**
 * `shardbridge discover <plan.json>`: prints the preflight report of a plan — per shard, source and target,
 * reachability, AUTH, versions, PSYNC permission, and every problem with its fix. Queues nothing.
 * Returns the exit code: 0 every shard would work, 1 some would fail; an invalid plan throws a CliError (2).
 */
export async function discoverCommand(
  planPath: string,
  options: DiscoverCommandOptions = {},
): Promise<number> {
  const write = options.write ?? ((text: string) => void process.stdout.write(text));
  const input = await readPlan(planPath);
  const report =
    options.api && !options.local
      ? await new ApiClient(
          options.api,
          process.env.SHARDBRIDGE_API_TOKEN || undefined,
          await readApiTls(options.apiTls),
        ).request<PreflightReport>('POST', '/v1/discover', input)
      : await preflightPlan(validated(planPath, input), {
          connectTimeoutMs: options.connectTimeoutMs ?? 5_000,
        });
  write(options.json ? `${JSON.stringify(report)}\n` : ensureNewline(formatPreflightReport(report)));
  return report.ok ? 0 : EXIT_FAILURE;
}

async function readPlan(planPath: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(planPath, 'utf8')) as unknown;
  } catch (error) {
    throw new CliError(`cannot read plan ${planPath}: ${(error as Error).message}`, EXIT_USAGE);
  }
}

function validated(planPath: string, input: unknown) {
  try {
    return parsePlan(input);
  } catch (error) {
    if (!(error instanceof PlanValidationError)) throw error;
    const lines = error.issues.map((issue) => `  ${issue.field}: ${issue.reason}`);
    throw new CliError(`invalid plan ${planPath}:\n${lines.join('\n')}`, EXIT_USAGE);
  }
}

function ensureNewline(text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`;
}
