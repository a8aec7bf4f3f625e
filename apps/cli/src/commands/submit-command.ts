import { connectApi, type ApiCommandOptions } from '../api-client.js';
import { asPlanFileError, readPlanFile, validatePlanFile } from '../plan-file.js';

export interface SubmitCommandOptions extends ApiCommandOptions {
  json: boolean;
  /**
   * re-plan over a stored plan of the same name (deletes it, its jobs and checkpoints; a full sync follows).
   * @defaultValue false
   */
  replace?: boolean;
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
  const plan = await readPlanFile(planPath);
  // Checked here first, worded alike, so an invalid plan needs no coordinator; the coordinator checks it again
  // (with its own rules: secrets as references). The file's own text is sent, not the defaults filled in.
  validatePlanFile(planPath, plan);
  const api = await connectApi(options);
  let created: SubmittedPlan;
  try {
    created = await api.request<SubmittedPlan>(
      'POST',
      options.replace ? '/v1/plans?replace=true' : '/v1/plans',
      plan,
    );
  } catch (error) {
    throw asPlanFileError(planPath, error);
  }
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
