import { formatPreflightReport, preflightPlan, type PreflightReport } from '@shardbridge/plan';
import { connectApi } from '../api-client.js';
import type { ApiTlsFiles } from '../api-tls.js';
import { EXIT_FAILURE } from '../cli-error.js';
import { asPlanFileError, readPlanFile, validatePlanFile } from '../plan-file.js';

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
 * Returns the exit code: 0 every shard would work, 1 some would fail (as `submit` exits for a plan the
 * coordinator's preflight refuses); an invalid plan throws a PlanFileError (2), wherever it was validated.
 */
export async function discoverCommand(
  planPath: string,
  options: DiscoverCommandOptions = {},
): Promise<number> {
  const write = options.write ?? ((text: string) => void process.stdout.write(text));
  const input = await readPlanFile(planPath);
  // Checked here in either case, worded alike: an invalid plan needs no coordinator.
  const plan = validatePlanFile(planPath, input);
  let report: PreflightReport;
  if (options.api && !options.local) {
    const api = await connectApi({ api: options.api, apiTls: options.apiTls });
    report = await api
      .request<PreflightReport>('POST', '/v1/discover', input)
      .catch((error: unknown) => Promise.reject(asPlanFileError(planPath, error)));
  } else {
    report = await preflightPlan(plan, { connectTimeoutMs: options.connectTimeoutMs ?? 5_000 });
  }
  write(options.json ? `${JSON.stringify(report)}\n` : ensureNewline(formatPreflightReport(report)));
  return report.ok ? 0 : EXIT_FAILURE;
}

function ensureNewline(text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`;
}
