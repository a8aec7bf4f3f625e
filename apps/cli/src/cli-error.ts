/** Exit codes: 0 done, 1 the sync or command failed, 2 the input (plan, flags) is wrong. */
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

/** Prints the error as operators should see it and returns the exit code. */
export function reportError(error: unknown): number {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown })?.code;
  process.stderr.write(
    `error: ${message}${typeof code === 'string' && !message.includes(code) ? ` [${code}]` : ''}\n`,
  );
  if (process.env.SHARDBRIDGE_DEBUG && error instanceof Error && error.stack)
    process.stderr.write(`${error.stack}\n`);
  return error instanceof CliError ? error.exitCode : EXIT_FAILURE;
}
