import { ApiError, connectApi, type ApiCommandOptions } from '../api-client.js';
import { CliError } from '../cli-error.js';

export interface DeleteCommandOptions extends ApiCommandOptions {
  /** how long to wait for running shards to stop before giving up. @defaultValue 60000 */
  waitMs?: number;
  /** pause between attempts while shards still run. @defaultValue 1000 */
  pollMs?: number;
  /** where the outcome goes. @defaultValue process.stdout */
  write?: (text: string) => void;
  /** where progress notes go. @defaultValue process.stderr */
  note?: (text: string) => void;
}

/**
 * `shardbridge delete <planId>`: removes the plan, its jobs and checkpoints (the target keeps its data). The
 * coordinator tells running shards to stop and answers 409 PLAN_RUNNING until they have: this waits up to `waitMs`,
 * asking again, then says what to do.
 */
export async function deleteCommand(planId: string, options: DeleteCommandOptions): Promise<void> {
  const write = options.write ?? ((text: string) => void process.stdout.write(text));
  const note = options.note ?? ((text: string) => void process.stderr.write(text));
  const waitMs = options.waitMs ?? 60_000;
  const api = await connectApi(options);
  const deadline = Date.now() + waitMs;
  let waiting = false;
  for (;;) {
    try {
      await api.request('DELETE', `/v1/plans/${encodeURIComponent(planId)}`);
      break;
    } catch (error) {
      if (!(error instanceof ApiError) || error.code !== 'PLAN_RUNNING') throw error;
      if (Date.now() >= deadline) {
        throw new CliError(
          `plan ${planId} still has running shards after ${Math.round(waitMs / 1000)} s (PLAN_RUNNING); they have ` +
            `been told to stop: check them with \`shardbridge status ${planId}\` and run \`shardbridge delete ` +
            `${planId}\` again, or give --wait more time`,
        );
      }
      if (!waiting) {
        waiting = true;
        note(`plan ${planId}: waiting up to ${Math.round(waitMs / 1000)} s for its shards to stop…\n`);
      }
      await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 1000));
    }
  }
  write(`plan ${planId} deleted: its jobs, checkpoints and record are gone (the target keeps its data)\n`);
}
