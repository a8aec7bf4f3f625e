import { createHash } from 'node:crypto';

/**
 * A marked batch as ONE script call (exactly-once, Redis ≥ 7), so several batches can be in flight at once: each
 * applies only on top of the marker the batch before it set, so a batch that was refused or lost is never followed
 * by one that applies.
 *
 * KEYS[1]  the applied marker key (db 0)
 * KEYS[2]  the fence epoch key (db 0)
 * ARGV[1]  the marker the previous batch set; "" = none expected (a writer's first batch)
 * ARGV[2]  the marker this batch sets
 * ARGV[3]  the shard owner's fence epoch (decimal); "" = not fenced
 * ARGV[4]  the stream db before the batch's first command
 * ARGV[5…] the commands, each as its argument count then its arguments (SELECTs of the stream included)
 *
 * Returns the number of commands run. Errors, in order of the checks:
 * - `SHARDBRIDGE-MARKER <what the key holds>`: the marker is not the previous batch's: nothing applied
 * - `SHARDBRIDGE-FENCED <epoch seen>`: a newer owner wrote here: nothing applied
 * - `SHARDBRIDGE-REFUSED <index> <reply>`: command `index` (0-based) was refused while running; like a command
 *   refused inside MULTI … EXEC, the batch's other commands ran and the marker records the batch's end, with
 *   ` !` appended so that no later batch applies.
 *
 * The shebang makes the script declare flags (none: it writes, and is refused whole with -OOM when the target is
 * over maxmemory at its start; Redis then checks no later write of the script for OOM, so it never stops half
 * way for memory). Scripts run in their own db context since Redis 2.8.12: the SELECTs inside do not move the
 * connection.
 */
export const BATCH_SCRIPT = `#!lua
redis.call('SELECT', '0')
local marker = redis.call('GET', KEYS[1])
if ARGV[1] ~= '' and marker ~= ARGV[1] then
  return redis.error_reply('SHARDBRIDGE-MARKER ' .. (marker or '(none)'))
end
if ARGV[3] ~= '' then
  local seen = tonumber(redis.call('GET', KEYS[2]) or '0') or 0
  local mine = tonumber(ARGV[3])
  if seen > mine then return redis.error_reply('SHARDBRIDGE-FENCED ' .. seen) end
  if seen < mine then redis.call('SET', KEYS[2], ARGV[3]) end
end
redis.call('SELECT', ARGV[4])
local i = 5
local n = 0
local refused = nil
while i <= #ARGV do
  local count = tonumber(ARGV[i])
  local reply = redis.pcall(unpack(ARGV, i + 1, i + count))
  if refused == nil and type(reply) == 'table' and reply.err then refused = n .. ' ' .. reply.err end
  n = n + 1
  i = i + count + 1
end
redis.call('SELECT', '0')
if refused then
  redis.call('SET', KEYS[1], ARGV[2] .. ' !')
  return redis.error_reply('SHARDBRIDGE-REFUSED ' .. refused)
end
redis.call('SET', KEYS[1], ARGV[2])
return n
`;

export const BATCH_SCRIPT_SHA = createHash('sha1').update(BATCH_SCRIPT).digest('hex');

/**
 * Commands a script may not run (flagged `noscript` in Redis 7's command table) that a replication stream can
 * carry: scripts and functions from sources that replicate them verbatim, FUNCTION LOAD/DELETE/FLUSH/RESTORE,
 * SCRIPT, and blocking commands (a source propagates them as their non-blocking forms, but a stream from a module or
 * an old version may not). They go in a MULTI … EXEC batch of their own.
 */
const NOT_IN_SCRIPTS: ReadonlySet<string> = new Set([
  'EVAL',
  'EVALSHA',
  'EVAL_RO',
  'EVALSHA_RO',
  'FCALL',
  'FCALL_RO',
  'FUNCTION',
  'SCRIPT',
  'BLPOP',
  'BRPOP',
  'BRPOPLPUSH',
  'BLMOVE',
  'BZPOPMIN',
  'BZPOPMAX',
  'CLIENT',
  'CONFIG',
  'DEBUG',
  'WATCH',
  'UNWATCH',
]);

/**
 * Lua's `unpack` puts every argument of a command on its C stack, which holds 8000 slots (LUAI_MAXCSTACK in Redis's
 * Lua): a command with more arguments cannot be called from a script.
 */
const MAX_SCRIPT_ARGUMENTS = 4000;
/**
 * A big value passed through a script is copied into Lua and again into the key; above this size the command goes
 * in a MULTI … EXEC batch of its own, so the target holds it once.
 */
const MAX_SCRIPT_COMMAND_BYTES = 1024 * 1024;

/** Can this stream command run inside the batch script? */
export function runsInScript(name: string, args: readonly Buffer[], bytes: number): boolean {
  return (
    args.length <= MAX_SCRIPT_ARGUMENTS && bytes <= MAX_SCRIPT_COMMAND_BYTES && !NOT_IN_SCRIPTS.has(name)
  );
}

const EVALSHA = Buffer.from('EVALSHA');
const SHA = Buffer.from(BATCH_SCRIPT_SHA);
const TWO = Buffer.from('2');
const NONE = Buffer.alloc(0);

/** What one batch script call needs. */
export interface ScriptBatchCall {
  markerKey: Buffer;
  epochKey: Buffer;
  expectedMarker: string | null;
  marker: string;
  fenceEpoch: number | undefined;
  startDb: number;
  commands: readonly Buffer[][];
}

/** The `EVALSHA` arguments of one batch (see {@link BATCH_SCRIPT} for their layout). */
export function scriptBatchArgs(call: ScriptBatchCall): Buffer[] {
  const args: Buffer[] = [
    EVALSHA,
    SHA,
    TWO,
    call.markerKey,
    call.epochKey,
    call.expectedMarker === null ? NONE : Buffer.from(call.expectedMarker),
    Buffer.from(call.marker),
    call.fenceEpoch === undefined ? NONE : Buffer.from(String(call.fenceEpoch)),
    Buffer.from(String(call.startDb)),
  ];
  for (const command of call.commands) {
    args.push(Buffer.from(String(command.length)));
    for (let i = 0; i < command.length; i++) args.push(command[i]);
  }
  return args;
}

/** `SHARDBRIDGE-REFUSED <index> <reply>`: the index and the command's own error reply; null for other errors */
export function parseRefusal(reply: string): { index: number; reply: string } | null {
  const match = /^SHARDBRIDGE-REFUSED (\d+) (.*)$/s.exec(reply);
  return match ? { index: Number(match[1]), reply: match[2] } : null;
}
