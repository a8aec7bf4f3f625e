const RESTORE = Buffer.from('RESTORE');
const REPLACE = Buffer.from('REPLACE');

/**
 * A source master that imports a key by slot migration (MIGRATE on the old owner) propagates it to its replicas
 * as `RESTORE-ASKING key ttl payload [REPLACE] [ABSTTL] ...`. On the target it is written as a plain `RESTORE`
 * routed by its key, always with `REPLACE`: the target may still hold the key under the old owner's shard (its
 * `DEL` is replayed by another worker), and the migrated value is the newer one. RESTORE-ASKING itself would be
 * refused by a cluster target node that is not importing the slot, and answer BUSYKEY without REPLACE.
 *
 * @returns `args` unchanged for any other command
 */
export function asTargetRestore(name: string, args: Buffer[]): Buffer[] {
  if (name !== 'RESTORE-ASKING') return args;
  const rewritten = [RESTORE, ...args.slice(1)];
  const hasReplace = args
    .slice(4)
    .some((arg) => arg.length === 7 && arg.toString('latin1').toUpperCase() === 'REPLACE');
  if (!hasReplace) rewritten.push(REPLACE);
  return rewritten;
}
