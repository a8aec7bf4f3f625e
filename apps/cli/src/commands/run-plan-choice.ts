import type { Plan } from '@shardbridge/plan';
import type { ApiClient } from '../api-client.js';
import { CliError, EXIT_USAGE } from '../cli-error.js';
import { planDifferences } from '../plan-differences.js';

/** How `run` settled which plan runs. */
export interface PlanChoice {
  planId: string;
  /** `created`: no plan of the name was stored; `resumed`: the stored one, unchanged; `replanned`: `--replan` */
  how: 'created' | 'resumed' | 'replanned';
  shardCount: number;
}

export interface PlanChoiceOptions {
  /** the plan file's path, for messages */
  planPath: string;
  /** re-plan from the file over a stored plan of the same name (`--replan`). @defaultValue false */
  replan?: boolean;
  /** how long `--replan` waits for the stored plan's running shards to stop. @defaultValue 60000 */
  replaceTimeoutMs?: number;
}

interface StoredView {
  id: string;
  state: string;
  plan?: unknown;
  shards: unknown[];
}

/**
 * `run`'s rule for a plan name already in the queue: the stored plan is resumed only when the file still says the
 * same thing (secrets compared as the references `run` stores); a changed file, or a cut-over plan, is refused
 * with EXIT_USAGE naming the fields that differ and `--replan`, which deletes the stored plan (jobs, checkpoints)
 * and plans again from the file. `wanted` is the plan as `run` submits it (secrets already references).
 */
export async function choosePlan(
  api: ApiClient,
  wanted: Plan,
  options: PlanChoiceOptions,
): Promise<PlanChoice> {
  const listed = await api.request<{ plans: Array<{ id: string; name: string }> }>('GET', '/v1/plans');
  const previous = listed.plans.find((item) => item.name === wanted.name);
  if (!previous) return { ...(await submit(api, wanted, false, options)), how: 'created' };
  if (options.replan) return { ...(await submit(api, wanted, true, options)), how: 'replanned' };

  const stored = await api.request<StoredView>('GET', `/v1/plans/${previous.id}`);
  const differences = stored.plan === undefined ? [] : planDifferences(stored.plan, wanted);
  const replan = `shardbridge run --replan ${options.planPath}`;
  if (differences.length > 0) {
    throw new CliError(
      `${options.planPath} differs from the stored plan ${stored.id} of the same name "${wanted.name}" in: ` +
        `${differences.join(', ')}. It was not resumed, since that would sync with the stored settings. To start ` +
        `over from the file (deletes plan ${stored.id} and its checkpoints; a new full sync): ${replan}. To resume ` +
        'the stored plan, put the file back as it was',
      EXIT_USAGE,
    );
  }
  if (stored.state === 'cut-over') {
    throw new CliError(
      `plan ${stored.id} ("${wanted.name}") was cut over: the target is the primary now and resuming would ` +
        "overwrite its newer writes with the source's, so a cut-over plan is final. To sync again from the " +
        `source from scratch: ${replan}`,
      EXIT_USAGE,
    );
  }
  await api.request('POST', `/v1/plans/${stored.id}/resume`);
  return { planId: stored.id, how: 'resumed', shardCount: stored.shards.length };
}

async function submit(
  api: ApiClient,
  wanted: Plan,
  replace: boolean,
  options: PlanChoiceOptions,
): Promise<Omit<PlanChoice, 'how'>> {
  const deadline = Date.now() + (options.replaceTimeoutMs ?? 60_000);
  for (;;) {
    try {
      const created = await api.request<{ id: string; shards: unknown[] }>(
        'POST',
        replace ? '/v1/plans?replace=true' : '/v1/plans',
        wanted,
      );
      return { planId: created.id, shardCount: created.shards.length };
    } catch (error) {
      // Replacing waits for the stored plan's shards to stop (the coordinator told them to).
      const running = error instanceof Error && error.message.includes('PLAN_RUNNING');
      if (!replace || !running || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}
