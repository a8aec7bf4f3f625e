import { connectApi, type ApiCommandOptions } from '../api-client.js';
import type { PlanStatusView } from './status-command.js';

export interface PlanControlOptions extends ApiCommandOptions {
  /** where the outcome goes. @defaultValue process.stdout */
  write?: (text: string) => void;
}

function writerOf(options: PlanControlOptions): (text: string) => void {
  return options.write ?? ((text: string) => void process.stdout.write(text));
}

const planPath = (planId: string) => `/v1/plans/${encodeURIComponent(planId)}`;

/** `shardbridge stop <planId>`: tells every shard to stop; each flushes the target and saves its checkpoint. */
export async function stopCommand(planId: string, options: PlanControlOptions): Promise<void> {
  const api = await connectApi(options);
  const answer = await api.request<{ id: string; state: string }>('POST', `${planPath(planId)}/stop`);
  writerOf(options)(
    answer.state === 'cut-over'
      ? `plan ${planId} was cut over: its shards are stopped for good\n`
      : `plan ${planId}: every shard told to stop (each flushes the target and saves its checkpoint); ` +
          `\`shardbridge status ${planId} --watch\` exits once none runs, \`shardbridge resume ${planId}\` continues\n`,
  );
}

/** `shardbridge resume <planId>`: every shard runs again, stopped and failed ones from their checkpoints. */
export async function resumeCommand(planId: string, options: PlanControlOptions): Promise<void> {
  const api = await connectApi(options);
  await api.request('POST', `${planPath(planId)}/resume`);
  writerOf(options)(
    `plan ${planId} resumed: stopped and failed shards are queued again and continue from their checkpoints; ` +
      `follow with \`shardbridge status ${planId} --watch\`\n`,
  );
}

/**
 * `shardbridge retry <planId> [shard]`: re-queues one finished shard (id or index), or every failed shard of the
 * plan when none is named. Each gets a fresh attempts budget and continues from its checkpoint.
 */
export async function retryCommand(
  planId: string,
  shard: string | undefined,
  options: PlanControlOptions,
): Promise<void> {
  const write = writerOf(options);
  const api = await connectApi(options);
  let shards: string[];
  if (shard !== undefined) shards = [shard];
  else {
    const plan = await api.request<PlanStatusView>('GET', planPath(planId));
    shards = plan.shards.filter((candidate) => candidate.phase === 'failed').map((candidate) => candidate.id);
    if (shards.length === 0) {
      write(
        `plan ${planId} has no failed shard: nothing to retry (\`shardbridge status ${planId}\` shows them)\n`,
      );
      return;
    }
  }
  for (const ref of shards) {
    const answer = await api.request<{ shard: string }>(
      'POST',
      `${planPath(planId)}/shards/${encodeURIComponent(ref)}/retry`,
    );
    write(`shard ${answer.shard} queued again (continues from its checkpoint)\n`);
  }
  write(`follow with \`shardbridge status ${planId} --watch\`\n`);
}
