import { connectApi, type ApiCommandOptions } from '../api-client.js';

export interface PlansCommandOptions extends ApiCommandOptions {
  /** print the API answer as JSON. @defaultValue false */
  json?: boolean;
  /** where the list goes. @defaultValue process.stdout */
  write?: (text: string) => void;
}

/** One plan of GET /v1/plans. */
export interface PlanListItem {
  id: string;
  name: string;
  state: string;
  createdAt: string;
  shardCount: number;
  /** phase -> number of shards in it */
  phases: Record<string, number>;
}

/** The plans as a table, oldest first (the API's order): id, name, state, shards, phases, created. */
export function renderPlans(plans: readonly PlanListItem[]): string {
  const rows = plans.map((plan) => [
    plan.id,
    plan.name,
    plan.state,
    String(plan.shardCount),
    Object.entries(plan.phases)
      .map(([phase, count]) => `${phase} ${count}`)
      .join(', ') || '-',
    plan.createdAt,
  ]);
  const header = ['ID', 'NAME', 'STATE', 'SHARDS', 'PHASES', 'CREATED'];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column].length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column]))
      .join('  ')
      .trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}

/** `shardbridge plans`: every plan the coordinator holds. */
export async function plansCommand(options: PlansCommandOptions): Promise<void> {
  const write = options.write ?? ((text: string) => void process.stdout.write(text));
  const api = await connectApi(options);
  const answer = await api.request<{ plans: PlanListItem[] }>('GET', '/v1/plans');
  if (options.json) write(`${JSON.stringify(answer)}\n`);
  else if (answer.plans.length === 0)
    write(
      `no plans on the coordinator at ${options.api}; submit one with \`shardbridge submit <plan.json>\`\n`,
    );
  else write(renderPlans(answer.plans));
}
