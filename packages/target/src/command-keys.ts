import { firstKey } from './command-classification.js';

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
