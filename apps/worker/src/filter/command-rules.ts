import type { SyncFilterSpec } from '@shardbridge/plan';
import { commandName, keyPositions } from '@shardbridge/target';
import { DbRule } from './db-rule.js';
import { FilterDbCrossingError, FilterMultiKeyError } from './filter-errors.js';
import { keyRule } from './key-rule.js';

/** Commands whose key list can be cut down to the kept keys without changing what they do to those keys. */
const SPLIT_ALL_KEYS = new Set(['DEL', 'UNLINK', 'EXISTS', 'TOUCH']);
const SPLIT_PAIRS = new Set(['MSET', 'MSETNX']);

/**
 * The plan's filter as decisions on single keys and single commands, with the source db they belong to. Pure:
 * no state between calls (the stream's db and transactions are {@link CommandFilter}'s).
 *
 * Contract of {@link command}: returns `args` itself when the command passes unchanged, a new argument list when
 * it was rewritten (kept keys of a split, a mapped db argument), null when nothing of it reaches the target; throws
 * FilterMultiKeyError / FilterDbCrossingError when it can neither pass nor be dropped. Arguments are never copied:
 * a rewritten list holds the same Buffers.
 */
export class CommandRules {
  readonly db: DbRule;
  private readonly keep: ((key: Buffer) => boolean) | null;
  private readonly denied: ReadonlySet<string>;
  private readonly split: boolean;

  constructor(spec: SyncFilterSpec | undefined) {
    this.db = new DbRule(spec);
    this.keep = keyRule(spec?.keys);
    this.denied = new Set((spec?.commands?.deny ?? []).map((name) => name.toUpperCase()));
    this.split = spec?.multiKeyPolicy === 'split';
  }

  /** The target db of an RDB key, or null when the filter leaves it out. */
  restoreDb(db: number, key: Buffer): number | null {
    const target = this.db.target(db);
    if (target === null) return null;
    return this.keep && !this.keep(key) ? null : target;
  }

  /** Whether a keyless command of the RDB phase (FUNCTION LOAD) is denied by name. */
  isDenied(name: string): boolean {
    return this.denied.has(name);
  }

  /** See the class contract. `db` is the source db the command runs in. */
  command(args: Buffer[], db: number): Buffer[] | null {
    if (this.db.target(db) === null) return null;
    const name = commandName(args);
    if (this.denied.has(name)) return null;
    let out: Buffer[] | null = args;
    if (this.keep) out = this.byKeys(name, args);
    if (out && this.db.active) out = this.crossingDbs(name, out, db);
    return out;
  }

  private byKeys(name: string, args: Buffer[]): Buffer[] | null {
    const positions = keyPositions(args);
    if (positions.length === 0) return args;
    const kept: number[] = [];
    const dropped: number[] = [];
    for (const at of positions) (this.keep!(args[at]) ? kept : dropped).push(at);
    if (dropped.length === 0) return args;
    if (kept.length === 0) return null;
    const splittable = SPLIT_ALL_KEYS.has(name) || SPLIT_PAIRS.has(name);
    if (!splittable || !this.split) {
      throw new FilterMultiKeyError(
        name,
        kept.map((at) => args[at]),
        dropped.map((at) => args[at]),
        splittable,
      );
    }
    if (SPLIT_ALL_KEYS.has(name)) return [args[0], ...kept.map((at) => args[at])];
    return [args[0], ...kept.flatMap((at) => [args[at], args[at + 1]])];
  }

  /** SWAPDB, MOVE and COPY … DB name a second db, which the db rules must map too. */
  private crossingDbs(name: string, args: Buffer[], db: number): Buffer[] | null {
    if (name === 'SWAPDB') {
      const [a, b] = [dbArgument(args[1]), dbArgument(args[2])];
      if (this.db.isIdentity(a) && this.db.isIdentity(b)) return args;
      throw new FilterDbCrossingError(name, `swaps dbs ${a} and ${b}`);
    }
    if (name === 'MOVE') {
      const to = dbArgument(args[2]);
      const target = this.db.target(to);
      // The key leaves the synced data: on the target it is simply gone.
      if (target === null) return [Buffer.from('DEL'), args[1]];
      if (target === this.db.target(db)) {
        throw new FilterDbCrossingError(
          name,
          `moves a key from db ${db} to db ${to}, both mapped to db ${target}`,
        );
      }
      return [args[0], args[1], Buffer.from(String(target))];
    }
    if (name === 'COPY') {
      for (let i = 3; i < args.length - 1; i++) {
        if (args[i].toString('latin1').toUpperCase() !== 'DB') continue;
        const target = this.db.target(dbArgument(args[i + 1]));
        if (target === null) return null;
        const out = args.slice();
        out[i + 1] = Buffer.from(String(target));
        return out;
      }
    }
    return args;
  }
}

function dbArgument(arg: Buffer | undefined): number {
  const text = arg?.toString('latin1') ?? '';
  return /^\d+$/.test(text) ? Number(text) : -1;
}
