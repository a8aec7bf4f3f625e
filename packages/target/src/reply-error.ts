import {
  TargetAuthError,
  TargetBusyKeyError,
  TargetCrossSlotError,
  TargetFencedError,
  TargetMarkerMismatchError,
  TargetOomError,
  TargetReadonlyError,
  TargetWriteError,
  type TargetError,
} from './errors.js';

const MAX_KEY_CHARS = 120;

/**
 * A key as it may appear in a message: printable ASCII as is, anything else hex-encoded, long keys truncated.
 * Keys are names, not values, so they may be shown; values never are.
 */
export function describeKey(key: Buffer | null | undefined): string {
  if (!key) return '(no key)';
  const shown = key.subarray(0, MAX_KEY_CHARS);
  let printable = true;
  for (let i = 0; i < shown.length; i++) {
    const c = shown[i];
    if (c < 0x20 || c > 0x7e) {
      printable = false;
      break;
    }
  }
  const text = printable ? `"${shown.toString('latin1')}"` : `0x${shown.toString('hex')}`;
  return key.length > MAX_KEY_CHARS ? `${text}… (${key.length} bytes)` : text;
}

/** The first word of an error reply, e.g. `OOM`, `READONLY`, `ERR`. */
function errorPrefix(reply: string): string {
  const space = reply.indexOf(' ');
  return space === -1 ? reply : reply.slice(0, space);
}

/**
 * Maps an error reply to a write into a coded error.
 *
 * @param target - label/address of the node that answered
 * @param reply - the error reply text without the leading `-`
 * @param command - the command name as sent (upper-case preferred)
 * @param key - the command's first key, if any
 */
export function errorFromReply(
  target: string,
  reply: string,
  command: string,
  key: Buffer | null,
): TargetError {
  const what = `${command} ${describeKey(key)}`;
  switch (errorPrefix(reply)) {
    case 'OOM':
      return new TargetOomError(
        target,
        `target ${target} is out of memory (maxmemory reached): raise maxmemory or free space, then retry — ` +
          `the shard resumes from its checkpoint (failed: ${what}: ${reply})`,
      );
    case 'READONLY':
      return new TargetReadonlyError(
        target,
        `target ${target} is a read-only replica (failed: ${what}): point the target at the primary/master, ` +
          `or for a cluster target check that its slots are served by masters`,
      );
    case 'NOAUTH':
    case 'WRONGPASS':
      return new TargetAuthError(
        target,
        `target ${target} refused ${command}: ${reply} — set the target's username/password in the plan`,
      );
    case 'NOPERM':
      return new TargetAuthError(
        target,
        `target ${target}: the ACL user may not run ${what} (${reply}) — grant it write commands, ` +
          `RESTORE and SELECT on all keys`,
      );
    case 'CROSSSLOT':
      return new TargetCrossSlotError(
        target,
        `target ${target} rejected ${what}: its keys hash to different slots of the cluster target (${reply}) — ` +
          `the source runs multi-key commands that a cluster cannot execute; use hash tags on the source ` +
          `or a standalone target`,
      );
    case 'BUSYKEY':
      return new TargetBusyKeyError(
        target,
        `target ${target} already has the key of ${what}; use targetMode "replace" to overwrite it`,
      );
    case 'SHARDBRIDGE-MARKER':
      return new TargetMarkerMismatchError(
        target,
        `target ${target}: an exactly-once batch found the applied marker changed (it holds ` +
          `${reply.slice(reply.indexOf(' ') + 1)}): an earlier batch was refused or lost, or another writer ` +
          `wrote it — nothing of this batch applied; check that no other sync writes this shard, then resume it`,
      );
    case 'SHARDBRIDGE-FENCED':
      return new TargetFencedError(
        target,
        `target ${target}: a batch was refused because another worker took the shard over (fence epoch ` +
          `${reply.slice(reply.indexOf(' ') + 1)} is newer than this worker's): nothing of it applied; this ` +
          `worker drops the shard — no action needed unless no other worker runs it`,
      );
    case 'NOSCRIPT':
      return new TargetWriteError(
        target,
        `target ${target}: the exactly-once batch script is gone from the target (SCRIPT FLUSH while the shard ` +
          `ran): nothing of the batch applied — resume the shard, it reloads the script`,
      );
    case 'MOVED':
    case 'ASK':
      return new TargetWriteError(
        target,
        `target ${target} redirected ${what} (${reply}): the target is a cluster — set the target type to "cluster"`,
      );
    default:
      return new TargetWriteError(
        target,
        `target ${target} rejected ${what}: ${reply} — the target now differs from the source; ` +
          `fix the cause (e.g. the target's version/modules/config) and resync the shard`,
        { command, key, reply },
      );
  }
}
