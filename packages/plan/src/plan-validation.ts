import { z } from 'zod';
import { planSchema, type Plan } from './plan-schema.js';

/** One problem in a submitted plan: the dotted field path and why it is wrong. */
export interface PlanIssue {
  field: string;
  reason: string;
}

export class PlanValidationError extends Error {
  readonly code = 'PLAN_INVALID';
  override name = 'PlanValidationError';
  constructor(readonly issues: PlanIssue[]) {
    super(`invalid plan: ${issues.map((issue) => `${issue.field}: ${issue.reason}`).join('; ')}`);
  }
}

function fieldPath(path: PropertyKey[]): string {
  if (path.length === 0) return '(plan)';
  return path
    .map((part, index) => (typeof part === 'number' ? `[${part}]` : `${index ? '.' : ''}${String(part)}`))
    .join('');
}

/** Validates untrusted plan input (parsed JSON). Throws PlanValidationError listing every problem. */
export function parsePlan(input: unknown): Plan {
  const result = planSchema.safeParse(input);
  if (result.success) return result.data;
  throw new PlanValidationError(
    result.error.issues.map((issue: z.core.$ZodIssue) => ({
      field: fieldPath(issue.path),
      reason: issue.message,
    })),
  );
}

/** Parses plan text (JSON). A syntax error is reported as a PlanValidationError too. */
export function parsePlanText(text: string): Plan {
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (error) {
    throw new PlanValidationError([
      { field: '(plan)', reason: `not valid JSON: ${(error as Error).message}` },
    ]);
  }
  return parsePlan(input);
}
