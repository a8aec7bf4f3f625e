import type { z } from 'zod';

/** One problem in a submitted plan: the dotted field path and why it is wrong. */
export interface PlanIssue {
  field: string;
  reason: string;
}

/**
 * A field path as a plan author writes it: `source.seeds[0]`, `target.natMap`. `root` names the document itself
 * (`(plan)` for a plan, `(body)` for another request body).
 */
export function issueField(path: readonly PropertyKey[], root = '(plan)'): string {
  if (path.length === 0) return root;
  return path
    .map((part, index) => (typeof part === 'number' ? `[${part}]` : `${index ? '.' : ''}${String(part)}`))
    .join('');
}

function quotedOptions(options: readonly unknown[]): string {
  return options.map((option) => JSON.stringify(option)).join(', ');
}

/**
 * Zod issues as plan problems, in words an operator acts on: a missing field `is required` (zod says "expected
 * object, received undefined"), a missing or unknown `type` lists the accepted ones, and each unknown key is its
 * own problem at its own path. A missing field is recognised by the issue's `input`, present when the schema was
 * parsed with `reportInput: true`; without it, by zod's wording.
 */
export function planIssuesOf(issues: readonly z.core.$ZodIssue[], root = '(plan)'): PlanIssue[] {
  return issues.flatMap((issue): PlanIssue[] => {
    const field = issueField(issue.path, root);
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        field: issueField([...issue.path, key], root),
        reason: 'is not a known field (check its spelling and level)',
      }));
    }
    if (issue.code === 'invalid_type' && isMissing(issue)) return [{ field, reason: 'is required' }];
    if (issue.code === 'invalid_union' && 'discriminator' in issue) {
      const { discriminator, options, input } = issue as {
        discriminator?: string;
        options?: unknown[];
        input?: unknown;
      };
      const given =
        typeof input === 'object' && input !== null && discriminator
          ? (input as Record<string, unknown>)[discriminator]
          : null;
      const accepted = `one of ${quotedOptions(options ?? [])}`;
      return [{ field, reason: given === undefined ? `is required: ${accepted}` : `expected ${accepted}` }];
    }
    return [{ field, reason: issue.message }];
  });
}

function isMissing(issue: z.core.$ZodIssue): boolean {
  if ('input' in issue) return issue.input === undefined;
  return issue.message.endsWith('received undefined');
}

/**
 * The one way every command prints an invalid plan: a line per problem, `<file>: <field>: <reason>`, the file as
 * the operator named it (`run`, `submit`, `discover` and the coordinator's 400 answer all end here).
 */
export function formatPlanIssues(file: string, issues: readonly PlanIssue[]): string[] {
  return issues.map((issue) => `${file}: ${issue.field}: ${issue.reason}`);
}
