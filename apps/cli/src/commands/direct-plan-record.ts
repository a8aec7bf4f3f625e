import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Plan } from '@shardbridge/plan';
import { FileCheckpointStore } from '@shardbridge/worker/engine';
import { CliError, EXIT_USAGE } from '../cli-error.js';
import { planDifferences } from '../plan-differences.js';

/** Stands in for a password or private key in the record: the record is a plain file and holds no secret. */
const SECRET = '(secret, not recorded)';

export interface DirectPlanRecordOptions {
  /** the plan file's path, for messages */
  planPath: string;
  /** where `run --direct` keeps its checkpoint; the record sits beside it */
  checkpointDir: string;
  /** the shard whose checkpoint `--replan` forgets */
  shardId: string;
  /** `--replan`: forget the checkpoint and record the file as the plan. @defaultValue false */
  replan?: boolean;
}

/**
 * `run --direct`'s guard against resuming a checkpoint into a plan that changed: the plan it ran (secrets left
 * out) is recorded beside the checkpoint. The next run with a file that differs is refused with EXIT_USAGE naming
 * the fields, since the checkpoint describes what the recorded target holds, and a partial resync into another
 * target would leave it without everything loaded before. `--replan` forgets the checkpoint (a new full sync).
 */
export async function checkDirectPlan(plan: Plan, options: DirectPlanRecordOptions): Promise<void> {
  const file = join(options.checkpointDir, `${options.shardId.replace(/[^A-Za-z0-9_.-]/g, '_')}.plan.json`);
  const wanted = withoutSecrets(plan);
  let recorded: unknown = null;
  try {
    recorded = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') recorded = { unreadable: true };
  }
  if (options.replan) {
    await new FileCheckpointStore(options.checkpointDir).clear(options.shardId);
  } else if (recorded !== null) {
    const differences = planDifferences(recorded, wanted);
    if (differences.length > 0) {
      throw new CliError(
        `${options.planPath} differs from the plan the checkpoint in ${options.checkpointDir} was made with, in: ` +
          `${differences.join(', ')}. Resuming would continue a stream into a target that does not hold what came ` +
          `before. To start over from the file (a new full sync): shardbridge run --direct --replan ` +
          `${options.planPath}. To resume, put the file back as it was`,
        EXIT_USAGE,
      );
    }
  }
  await mkdir(options.checkpointDir, { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, JSON.stringify(wanted, null, 2) + '\n');
  await rename(temp, file);
}

function withoutSecrets(plan: Plan): unknown {
  return JSON.parse(
    JSON.stringify(plan, (key, value: unknown) =>
      (key === 'password' || key === 'key') && typeof value === 'string' ? SECRET : value,
    ),
  );
}
