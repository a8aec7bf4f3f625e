import { planIssuesOf, type PlanIssue } from './plan-issues.js';
import { planSchema, type Plan } from './plan-schema.js';

export class PlanValidationError extends Error {
  readonly code = 'PLAN_INVALID';
  override name = 'PlanValidationError';
  constructor(readonly issues: PlanIssue[]) {
    super(`invalid plan: ${issues.map((issue) => `${issue.field}: ${issue.reason}`).join('; ')}`);
  }
}

/** Validates untrusted plan input (parsed JSON). Throws PlanValidationError listing every problem. */
export function parsePlan(input: unknown): Plan {
  // reportInput: the issues then tell a missing field from a wrong one; they are dropped right here, so the
  // input (literal secrets included) goes no further.
  const result = planSchema.safeParse(input, { reportInput: true });
  if (result.success) return result.data;
  throw new PlanValidationError(planIssuesOf(result.error.issues));
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
