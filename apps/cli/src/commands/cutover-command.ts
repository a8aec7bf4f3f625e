import { writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline/promises';
import { connectApi, type ApiClient, type ApiCommandOptions } from '../api-client.js';
import { CliError, EXIT_FAILURE } from '../cli-error.js';

export interface CutoverCommandOptions extends ApiCommandOptions {
  json: boolean;
  out?: string;
  /** CLIENT PAUSE WRITE on the source masters during the cutover */
  pauseSource: boolean;
  /** writes are already stopped: no confirmation asked */
  writesStopped: boolean;
  /** only confirm that writes stopped, for a cutover that waits (started elsewhere) */
  confirm: boolean;
  /** print the plan's last cutover (following it while it runs) instead of starting one. @defaultValue false */
  result?: boolean;
  /** @defaultValue 1000 */
  pollMs?: number;
}

/** The subset of the cutover report the CLI shows. */
interface CutoverView {
  id: string;
  status: string;
  reason?: string;
  writesStoppedBy?: string;
  startedAt: string;
  finishedAt?: string;
  steps: Array<{ step: string; startedAt: string; finishedAt?: string }>;
  shards: Array<{ shardId: string; masterOffset: number; acknowledgedOffset: number }>;
  keys?: number;
  verification?: { id: string; status: string; totals: Record<string, number> };
  warnings: string[];
}

const FINAL = new Set(['cut-over', 'failed']);

/**
 * `shardbridge cutover <planId>`: starts the cutover, follows its steps, asks (on a terminal) for the confirmation
 * that writes stopped when the source is not paused, and prints the report. Exit 0 only once cut over.
 */
export async function cutoverCommand(planId: string, options: CutoverCommandOptions): Promise<number> {
  const api = await connectApi(options);
  if (options.confirm) {
    await api.request('POST', `/v1/plans/${planId}/cutover/confirm`, {});
    process.stdout.write(`confirmed: writes to the source of plan ${planId} stopped\n`);
    return 0;
  }
  let report = options.result
    ? await api.request<CutoverView>('GET', `/v1/plans/${planId}/cutover`)
    : await api.request<CutoverView>('POST', `/v1/plans/${planId}/cutover`, {
        pauseSource: options.pauseSource,
        writesStopped: options.writesStopped,
      });
  const say = (line: string) => {
    if (!options.json) process.stderr.write(`${line}\n`);
  };
  if (!options.result) say(`cutover ${report.id} of plan ${planId} started`);
  let shown = '';
  let asked = false;
  while (!FINAL.has(report.status)) {
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 1000));
    report = await api.request<CutoverView>('GET', `/v1/plans/${planId}/cutover`);
    if (report.status !== shown) {
      shown = report.status;
      say(`  ${new Date().toISOString()}  ${report.status}`);
    }
    if (report.status === 'waiting-for-confirmation' && !asked) {
      asked = true;
      await askConfirmation(api, planId, say);
    }
  }
  if (options.out) await writeFile(options.out, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(options.json ? `${JSON.stringify(report)}\n` : renderCutover(report, planId));
  return report.status === 'cut-over' ? 0 : EXIT_FAILURE;
}

async function askConfirmation(api: ApiClient, planId: string, say: (line: string) => void): Promise<void> {
  if (!process.stdin.isTTY) {
    say(
      `  waiting for the confirmation that writes to the source stopped: stop them, then run ` +
        `\`shardbridge cutover ${planId} --confirm\``,
    );
    return;
  }
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await prompt.question('  Stop every write to the source, then type "yes" to continue: ');
    if (answer.trim().toLowerCase() !== 'yes') {
      throw new CliError(
        'cutover not confirmed; it fails at its confirmation timeout, the sync keeps running',
      );
    }
    await api.request('POST', `/v1/plans/${planId}/cutover/confirm`, {});
  } finally {
    prompt.close();
  }
}

export function renderCutover(report: CutoverView, planId: string): string {
  const lines = [
    `cutover ${report.id} of plan ${planId}: ${report.status === 'cut-over' ? 'CUT OVER' : 'FAILED'}` +
      (report.reason ? ` — ${report.reason}` : ''),
    `  started ${report.startedAt}, finished ${report.finishedAt ?? '-'}; writes stopped by ${report.writesStoppedBy ?? '-'}`,
  ];
  for (const step of report.steps)
    lines.push(`  ${step.step.padEnd(25)} ${step.startedAt} → ${step.finishedAt ?? '-'}`);
  for (const shard of report.shards) {
    lines.push(
      `  ${shard.shardId.padEnd(16)} master offset ${shard.masterOffset}  acknowledged ${shard.acknowledgedOffset}`,
    );
  }
  if (report.verification) {
    const totals = Object.entries(report.verification.totals)
      .map(([kind, count]) => `${kind} ${count}`)
      .join(', ');
    lines.push(`  verification ${report.verification.id}: ${report.verification.status} (${totals})`);
  }
  for (const warning of report.warnings) lines.push(`  warning: ${warning}`);
  if (report.status === 'cut-over') lines.push('  every shard stopped; point the clients at the target');
  return `${lines.join('\n')}\n`;
}
