import { access, readFile, writeFile } from 'node:fs/promises';
import type { VerificationReport } from '@shardbridge/plan';
import { connectApi, type ApiClient, type ApiCommandOptions } from '../api-client.js';
import { CliError, EXIT_FAILURE, EXIT_USAGE } from '../cli-error.js';
import { renderVerification } from '../verification-summary.js';

export interface VerifyCommandOptions extends ApiCommandOptions {
  json: boolean;
  /** print the plan's last verification (waiting for it while it runs) instead of starting one. @defaultValue false */
  result?: boolean;
  /** write the JSON report to this file */
  out?: string;
  level?: 'count' | 'sample' | 'full';
  sampleSize?: number;
  rounds?: number;
  roundDelayMs?: number;
  ttlToleranceMs?: number;
  maxDifferences?: number;
  timeoutMs?: number;
  /** @defaultValue 1000 */
  pollMs?: number;
}

/**
 * `shardbridge verify <plan.json|planId>`: starts a verification on the coordinator (or, with `result`, takes its
 * last one), waits for it and prints the summary (or the JSON). Exit 0 only when the target matches; 1 for
 * differences or a verification that failed.
 */
export async function verifyCommand(planRef: string, options: VerifyCommandOptions): Promise<number> {
  const api = await connectApi(options);
  const planId = await resolvePlanId(api, planRef);
  const reportPath = `/v1/plans/${planId}/verification`;
  const body = Object.fromEntries(
    Object.entries({
      level: options.level,
      sampleSize: options.sampleSize,
      rounds: options.rounds,
      roundDelayMs: options.roundDelayMs,
      ttlToleranceMs: options.ttlToleranceMs,
      maxDifferences: options.maxDifferences,
      timeoutMs: options.timeoutMs,
    }).filter(([, value]) => value !== undefined),
  );
  const started = options.result
    ? await api.request<VerificationReport>('GET', reportPath)
    : await api.request<VerificationReport>('POST', `/v1/plans/${planId}/verify`, body);
  if (!options.json && started.status === 'running')
    process.stderr.write(`verifying plan ${planId} (verification ${started.id})…\n`);
  let report = started;
  let shown = '';
  while (report.status === 'running') {
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 1000));
    report = await api.request<VerificationReport>('GET', reportPath);
    if (report.id !== started.id)
      throw new CliError(`another verification (${report.id}) replaced ${started.id}`);
    const line = (report.progress ?? [])
      .map(
        (shard) =>
          `${shard.shardId} ${shard.stage} ${shard.keysCompared} keys, ${shard.suspects} to re-check`,
      )
      .join('; ');
    if (!options.json && line && line !== shown) {
      shown = line;
      process.stderr.write(`  ${line}\n`);
    }
  }
  if (options.out) await writeFile(options.out, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(options.json ? `${JSON.stringify(report)}\n` : renderVerification(report));
  return report.status === 'clean' ? 0 : EXIT_FAILURE;
}

/** A plan id as given, or the newest plan named like the plan file `ref`. */
export async function resolvePlanId(api: ApiClient, ref: string): Promise<string> {
  const isFile = await access(ref).then(
    () => true,
    () => false,
  );
  if (!isFile) return ref;
  let name: unknown;
  try {
    name = (JSON.parse(await readFile(ref, 'utf8')) as { name?: unknown }).name;
  } catch (error) {
    throw new CliError(`cannot read plan ${ref}: ${(error as Error).message}`, EXIT_USAGE);
  }
  const { plans } = await api.request<{ plans: Array<{ id: string; name: string }> }>('GET', '/v1/plans');
  const matching = plans.filter((plan) => plan.name === name);
  if (matching.length === 0) {
    throw new CliError(
      `no plan named ${JSON.stringify(name)} on the coordinator; submit it first`,
      EXIT_USAGE,
    );
  }
  return matching[matching.length - 1].id; // the list is oldest first
}
