import { formatPlanIssues, type PlanIssue } from '@shardbridge/plan';

/**
 * Exit codes of every command: 0 done; 1 the sync or command failed — also a plan whose preflight fails (`discover`,
 * `submit`), or a verification that found differences; 2 the input is wrong (an invalid plan, a flag, a file).
 */
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** An error meant for the operator: printed as one `error: …` line, never with a stack. */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number = EXIT_FAILURE,
  ) {
    super(message);
  }
}

/**
 * An invalid plan file, whichever command read it (`run`, `submit`, `discover`) and whoever validated it (this
 * process or the coordinator): one `error: <file>: <field>: <reason>` line per problem, exit 2.
 */
export class PlanFileError extends CliError {
  override name = 'PlanFileError';
  readonly code = 'PLAN_INVALID';
  constructor(
    readonly file: string,
    readonly issues: readonly PlanIssue[],
  ) {
    super(formatPlanIssues(file, issues).join('\n'), EXIT_USAGE);
  }
}

/** Prints the error as operators should see it (a line of its message, one `error:` line) and returns the exit code. */
export function reportError(error: unknown): number {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown })?.code;
  const suffix = typeof code === 'string' && !message.includes(code) && !(error instanceof PlanFileError);
  const lines = message.split('\n');
  // Errors of the packages carry their code in brackets (scripts match it); API errors put `(CODE)` in the message.
  if (suffix) lines[lines.length - 1] += ` [${code as string}]`;
  process.stderr.write(lines.map((line) => `error: ${line}\n`).join(''));
  if (process.env.SHARDBRIDGE_DEBUG && error instanceof Error && error.stack)
    process.stderr.write(`${error.stack}\n`);
  return error instanceof CliError ? error.exitCode : EXIT_FAILURE;
}
