import { commandName, firstKey, KEYLESS } from './command-classification.js';

/** Key positions of one command, from the legacy fields of a `COMMAND` reply. */
interface KeySpec {
  /** index in the command's arguments (name = 0) of the first key; 0 = none at a fixed position */
  firstKey: number;
  /** keys are found by parsing the arguments (EVAL, ZUNIONSTORE, ...) */
  movable: boolean;
}

/**
 * Finds the key that decides where a command goes on a cluster target, using the target's own `COMMAND` table
 * (so module commands are covered), and falling back to {@link firstKey}'s rules for commands whose keys move
 * (EVAL, FCALL, LMPOP, ...) or that the table does not list.
 */
export class CommandKeys {
  private constructor(private readonly specs: ReadonlyMap<string, KeySpec>) {}

  /** Without a table (e.g. the ACL user may not run COMMAND): only the built-in rules. */
  static builtIn(): CommandKeys {
    return new CommandKeys(new Map());
  }

  /**
   * From a decoded `COMMAND` reply: `[name, arity, flags, firstkey, lastkey, step, acl, tips, keyspecs,
   * subcommands]` per command; subcommands (Redis 7) use the same layout with names like `xgroup|create`.
   */
  static fromCommandReply(reply: unknown): CommandKeys {
    const specs = new Map<string, KeySpec>();
    const add = (entries: unknown): void => {
      if (!Array.isArray(entries)) return;
      for (const entry of entries) {
        if (!Array.isArray(entry) || entry.length < 6) continue;
        const name = String(entry[0]).toUpperCase();
        const flags = Array.isArray(entry[2]) ? entry[2].map(String) : [];
        specs.set(name, { firstKey: Number(entry[3]) || 0, movable: flags.includes('movablekeys') });
        add(entry[9]);
      }
    };
    add(reply);
    return new CommandKeys(specs);
  }

  /**
   * @param name - upper-case command name
   * @returns the routing key, or null for a command without keys (any node may run it)
   */
  routingKey(name: string, args: readonly Buffer[]): Buffer | null {
    let spec = this.specs.get(name);
    if (spec && spec.firstKey === 0 && args.length > 1) {
      spec = this.specs.get(`${name}|${args[1].toString('latin1').toUpperCase()}`) ?? spec;
    }
    if (spec && spec.firstKey > 0) return args[spec.firstKey] ?? null;
    if (spec && !spec.movable) return null;
    return firstKey(name, args);
  }
}

/** Commands whose arguments after the name are all keys. */
const ALL_KEYS = new Set([
  'DEL',
  'UNLINK',
  'EXISTS',
  'TOUCH',
  'WATCH',
  'SINTER',
  'SUNION',
  'SDIFF',
  'SINTERSTORE',
  'SUNIONSTORE',
  'SDIFFSTORE',
  'PFCOUNT',
  'PFMERGE',
  'MGET',
]);
/** `key key ...rest`: the first two arguments are keys (source and destination) */
const TWO_KEYS = new Set([
  'RENAME',
  'RENAMENX',
  'COPY',
  'SMOVE',
  'LMOVE',
  'BLMOVE',
  'RPOPLPUSH',
  'BRPOPLPUSH',
  'GEOSEARCHSTORE',
  'ZRANGESTORE',
]);
/** `destination numkeys key...` */
const DEST_NUMKEYS = new Set(['ZUNIONSTORE', 'ZINTERSTORE', 'ZDIFFSTORE']);
/** `numkeys key...` right after the name (or after a timeout for the blocking forms) */
const NUMKEYS = new Set(['ZUNION', 'ZINTER', 'ZDIFF', 'LMPOP', 'ZMPOP', 'SINTERCARD', 'ZINTERCARD']);
const SCRIPTS = new Set(['EVAL', 'EVALSHA', 'EVAL_RO', 'EVALSHA_RO', 'FCALL', 'FCALL_RO']);

function numkeysRange(args: readonly Buffer[], at: number): number[] {
  const count = Number(args[at]?.toString('latin1'));
  if (!Number.isSafeInteger(count) || count < 0) return [];
  const positions: number[] = [];
  for (let i = 0; i < count && at + 1 + i < args.length; i++) positions.push(at + 1 + i);
  return positions;
}

/**
 * Every key of a replicated command, as indexes into `args` (name = 0), in argument order. Commands with no
 * key (FLUSHALL, PUBLISH, FUNCTION, ...) give `[]`; a command not known here is assumed to have its only key
 * first (the shape of every single-key data command).
 */
export function keyPositions(args: readonly Buffer[]): number[] {
  const name = commandName(args);
  if (KEYLESS.has(name) || args.length < 2) return [];
  const range = (from: number, step = 1): number[] => {
    const positions: number[] = [];
    for (let i = from; i < args.length; i += step) positions.push(i);
    return positions;
  };
  if (ALL_KEYS.has(name)) return range(1);
  if (name === 'MSET' || name === 'MSETNX') return range(1, 2);
  if (TWO_KEYS.has(name)) return args.length > 2 ? [1, 2] : [1];
  if (name === 'BITOP') return range(2);
  if (DEST_NUMKEYS.has(name)) return [1, ...numkeysRange(args, 2)];
  if (NUMKEYS.has(name)) return numkeysRange(args, 1);
  if (name === 'BLMPOP' || name === 'BZMPOP') return numkeysRange(args, 2);
  if (SCRIPTS.has(name)) return numkeysRange(args, 2);
  if (name === 'XGROUP' || name === 'XINFO' || name === 'OBJECT' || name === 'MEMORY') {
    return args.length > 2 ? [2] : [];
  }
  if (name === 'SORT' || name === 'GEORADIUS' || name === 'GEORADIUSBYMEMBER') {
    // `... STORE dest` / `... STOREDIST dest` names a second key
    const positions = [1];
    for (let i = 2; i < args.length - 1; i++) {
      const word = args[i].toString('latin1').toUpperCase();
      if (word === 'STORE' || word === 'STOREDIST') positions.push(i + 1);
    }
    return positions;
  }
  return [1];
}
