import { readFile, writeFile } from 'node:fs/promises';
import { writePlan, type Endpoint } from './sync-harness.js';

/** {@link writePlan} plus top-level plan fields (mode, targetMode, confirm, filter, ...). */
export async function writePlanWith(
  dir: string,
  source: Endpoint,
  target: Endpoint & { type?: 'standalone' | 'cluster' },
  extra: Record<string, unknown>,
  name = 'e2e',
): Promise<string> {
  const file = await writePlan(dir, source, target, name);
  const plan = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  await writeFile(file, JSON.stringify({ ...plan, ...extra }, null, 2));
  return file;
}

/** `run --direct` arguments with frequent progress lines. */
export const directRun = (plan: string, checkpoints: string) => [
  'run',
  '--direct',
  plan,
  '--checkpoint-dir',
  checkpoints,
  '--progress-interval',
  '100',
];
