import { readFile } from 'node:fs/promises';
import { parsePlan, PlanValidationError, type Plan } from '@shardbridge/plan';
import { ApiError } from './api-client.js';
import { CliError, EXIT_USAGE, PlanFileError } from './cli-error.js';

/**
 * The parsed JSON of a plan file, not yet validated (the coordinator validates what `submit` sends). A file that
 * cannot be read is a usage error; text that is not JSON is an invalid plan like any other.
 */
export async function readPlanFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    throw new CliError(`cannot read plan ${file}: ${code ?? message}`, EXIT_USAGE);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new PlanFileError(file, [
      { field: '(plan)', reason: `not valid JSON: ${(error as Error).message}` },
    ]);
  }
}

/** Validates a plan read from `file` in this process; an invalid one throws a PlanFileError. */
export function validatePlanFile(file: string, input: unknown): Plan {
  try {
    return parsePlan(input);
  } catch (error) {
    throw asPlanFileError(file, error);
  }
}

/**
 * The error to report for a plan from `file`: the problems of a plan refused here or by the coordinator (400
 * PLAN_INVALID) as a PlanFileError, so they print alike; any other error unchanged.
 */
export function asPlanFileError(file: string, error: unknown): unknown {
  if (error instanceof PlanValidationError) return new PlanFileError(file, error.issues);
  if (error instanceof ApiError && error.code === 'PLAN_INVALID' && error.problem.errors?.length) {
    return new PlanFileError(file, error.problem.errors);
  }
  return error;
}
