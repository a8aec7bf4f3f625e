import type { SyncFilterSpec } from '@shardbridge/plan';
import { CommandFilter, type FilterStep } from './command-filter.js';
import { CommandRules } from './command-rules.js';
import { SourceDbHistory } from './source-db-history.js';

/**
 * The plan's filter for one shard: the same rules for the keys of the RDB and for the command stream, the source
 * db at each acknowledged offset (for checkpoints), and the counters progress reports.
 */
export class ShardFilter {
  private readonly rules: CommandRules;
  private stream: CommandFilter;
  private readonly history = new SourceDbHistory(0);
  /** filtered commands of streams before the current one */
  private commandsBefore = 0;
  private keys = 0;

  constructor(spec: SyncFilterSpec) {
    this.rules = new CommandRules(spec);
    this.stream = new CommandFilter(this.rules, 0, 0);
  }

  /** RDB keys left out so far */
  get keysFiltered(): number {
    return this.keys;
  }

  /** stream commands left out or cut down so far */
  get commandsFiltered(): number {
    return this.commandsBefore + this.stream.filteredCommands;
  }

  /** The target db of an RDB key, or null (counted) when the filter leaves it out. */
  restoreDb(db: number, key: Buffer): number | null {
    const target = this.rules.restoreDb(db, key);
    if (target === null) this.keys++;
    return target;
  }

  /** Whether a keyless command of the RDB phase (FUNCTION LOAD) is denied by name. */
  isDenied(name: string): boolean {
    return this.rules.isDenied(name);
  }

  /**
   * The stream (re)starts in source db `sourceDb` (a checkpoint's, or 0 after a full resync).
   * @returns the target db the writer must be told (0 for a filtered db: nothing is written there)
   */
  startStream(sourceDb: number): number {
    const writerDb = this.rules.db.target(sourceDb) ?? 0;
    this.commandsBefore += this.stream.filteredCommands;
    this.stream = new CommandFilter(this.rules, sourceDb, writerDb);
    this.history.reset(sourceDb);
    return writerDb;
  }

  /** One command of the stream (see CommandFilter.push). */
  push(args: Buffer[], offsetAfter: number): FilterStep {
    const step = this.stream.push(args, offsetAfter);
    this.history.record(offsetAfter, this.stream.sourceDb);
    return step;
  }

  /** the source db selected at an acknowledged offset: what a checkpoint stores */
  sourceDbAt(offset: number): number {
    return this.history.at(offset);
  }
}
