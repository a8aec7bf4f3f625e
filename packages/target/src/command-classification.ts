/**
 * How the writer treats one command of the replication stream.
 * - `skip`: never forwarded (PING, REPLCONF, configured names); still advances the offset in order
 * - `select`: changes the stream's db
 * - `multi` / `exec` / `discard`: transaction boundaries
 * - `write`: forwarded as is
 */
export type CommandKind = 'skip' | 'select' | 'multi' | 'exec' | 'discard' | 'write';

/** Commands a master sends to its replicas that are not data changes. */
export const ALWAYS_SKIPPED: readonly string[] = ['PING', 'REPLCONF'];

const FIXED_KINDS: ReadonlyMap<string, CommandKind> = new Map([
  ['SELECT', 'select'],
  ['MULTI', 'multi'],
  ['EXEC', 'exec'],
  ['DISCARD', 'discard'],
]);

/** A command's name, upper-cased. */
export function commandName(args: readonly Buffer[]): string {
  return args.length === 0 ? '' : args[0].toString('latin1').toUpperCase();
}

/** Classifies by name; `skipped` holds upper-case names (it includes {@link ALWAYS_SKIPPED}). */
export function classifyCommand(name: string, skipped: ReadonlySet<string>): CommandKind {
  if (skipped.has(name)) return 'skip';
  return FIXED_KINDS.get(name) ?? 'write';
}

/** Commands whose arguments hold no key at all (their first argument may be a value, e.g. a script). */
export const KEYLESS: ReadonlySet<string> = new Set([
  'FLUSHALL',
  'FLUSHDB',
  'SWAPDB',
  'PUBLISH',
  'SPUBLISH',
  'SCRIPT',
  'FUNCTION',
  'SELECT',
  'MULTI',
  'EXEC',
  'DISCARD',
  'PING',
  'REPLCONF',
  'CONFIG',
  'CLIENT',
]);
/** `<numkeys> key...` right after the name */
const NUMKEYS_FIRST = new Set(['LMPOP', 'ZMPOP', 'SINTERCARD', 'ZINTERCARD', 'BLMPOP', 'BZMPOP']);
/** `<script|function> <numkeys> key...` */
const SCRIPT_CALLS = new Set(['EVAL', 'EVALSHA', 'EVAL_RO', 'EVALSHA_RO', 'FCALL', 'FCALL_RO']);
/** `<subcommand> key ...` */
const SUBCOMMAND_FIRST = new Set(['XGROUP', 'XINFO', 'OBJECT', 'MEMORY']);

/**
 * The first key of a command, for error messages only (routing is done by the cluster client). Returns null
 * rather than guess, so a message never shows a value by mistake.
 */
export function firstKey(name: string, args: readonly Buffer[]): Buffer | null {
  if (KEYLESS.has(name)) return null;
  if (SCRIPT_CALLS.has(name)) return Number(args[2]?.toString('latin1')) > 0 ? (args[3] ?? null) : null;
  if (NUMKEYS_FIRST.has(name)) {
    // BLMPOP/BZMPOP start with a timeout
    const at = name.startsWith('B') ? 2 : 1;
    return Number(args[at]?.toString('latin1')) > 0 ? (args[at + 1] ?? null) : null;
  }
  if (name === 'BITOP') return args[2] ?? null;
  if (SUBCOMMAND_FIRST.has(name)) return args[2] ?? null;
  return args[1] ?? null;
}
