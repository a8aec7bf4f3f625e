import { readFile } from 'node:fs/promises';
import { ApiClient } from '../api-client.js';
import { readApiTls, type ApiTlsFiles } from '../api-tls.js';
import { CliError, EXIT_USAGE } from '../cli-error.js';

export interface SubmitCommandOptions {
  api: string;
  json: boolean;
  /** CA / client certificate files for an HTTPS coordinator. @defaultValue none (system CAs, no client cert) */
  apiTls?: ApiTlsFiles;
}

interface SubmittedPlan {
  id: string;
  name: string;
  shards: Array<{
    id: string;
    slots: Array<[number, number]>;
    announced: string;
    reachable: string;
    jobId: string;
  }>;
}

/** `shardbridge submit <plan.json>`: POST the plan to the coordinator and print its shards. */
export async function submitCommand(planPath: string, options: SubmitCommandOptions): Promise<void> {
  let plan: unknown;
  try {
    plan = JSON.parse(await readFile(planPath, 'utf8'));
  } catch (error) {
    throw new CliError(`cannot read plan ${planPath}: ${(error as Error).message}`, EXIT_USAGE);
  }
  const api = new ApiClient(
    options.api,
    process.env.SHARDBRIDGE_API_TOKEN || undefined,
    await readApiTls(options.apiTls),
  );
  const created = await api.request<SubmittedPlan>('POST', '/v1/plans', plan);
  if (options.json) {
    process.stdout.write(`${JSON.stringify(created)}\n`);
    return;
  }
  process.stdout.write(`plan ${created.id} (${created.name}): ${created.shards.length} shard(s) queued\n`);
  for (const shard of created.shards) {
    const slots = shard.slots.map(([from, to]) => (from === to ? `${from}` : `${from}-${to}`)).join(',');
    const via =
      shard.announced === shard.reachable ? shard.reachable : `${shard.announced} via ${shard.reachable}`;
    process.stdout.write(`  ${shard.id}  slots ${slots}  ${via}\n`);
  }
  process.stdout.write(`follow it with: shardbridge status ${created.id} --watch\n`);
}
