import { commandName } from '@shardbridge/target';
import type { CommandRules } from './command-rules.js';

/** One command to hand to the target writer, with the source offset just after it (-1: completes no offset). */
export interface FilteredCommand {
  args: Buffer[];
  offsetAfter: number;
}

/**
 * What to do with one command of the stream:
 * - `forward`: hand `commands` to the writer in order (a SELECT of the target db may lead them)
 * - `drop`: nothing to write; the source bytes up to the command are handled (advance the acknowledged offset)
 * - `hold`: inside MULTI … EXEC: nothing to write yet, and no offset to acknowledge either
 */
export type FilterStep =
  { kind: 'forward'; commands: FilteredCommand[] } | { kind: 'drop' } | { kind: 'hold' };

const MULTI = Buffer.from('MULTI');
const SELECT = Buffer.from('SELECT');

interface HeldCommand {
  args: Buffer[];
  offsetAfter: number;
  db: number;
}

/**
 * The plan's filter over the replication stream, between framing and the target writer. Keeps the stream's
 * source db (SELECT) and tells the writer the mapped target db itself, with a SELECT of its own just before the
 * next command that needs another db — so a SELECT of a filtered db, or a transaction dropped whole, never
 * leaves the writer in a db it should not write to. A source SELECT is itself dropped (its offset still counts).
 *
 * MULTI … EXEC is held until EXEC; then each command inside is filtered, and the transaction is forwarded with
 * what is left, or dropped when nothing is.
 */
export class CommandFilter {
  private db: number;
  private writerDb: number;
  private held: HeldCommand[] | null = null;
  private dropped = 0;

  /**
   * @param sourceDb - the source db selected where the stream (re)starts (the checkpoint's db)
   * @param writerDb - the target db the writer was told at that point
   */
  constructor(
    private readonly rules: CommandRules,
    sourceDb: number,
    writerDb: number,
  ) {
    this.db = sourceDb;
    this.writerDb = writerDb;
  }

  /** the source db selected after the last command pushed */
  get sourceDb(): number {
    return this.db;
  }

  /** commands left out or cut down so far */
  get filteredCommands(): number {
    return this.dropped;
  }

  /** @throws FilterMultiKeyError | FilterDbCrossingError (see CommandRules) */
  push(args: Buffer[], offsetAfter: number): FilterStep {
    const name = commandName(args);
    if (this.held) {
      if (name === 'EXEC') return this.exec(args, offsetAfter);
      if (name === 'DISCARD') {
        this.held = null;
        return { kind: 'drop' };
      }
      this.held.push({ args, offsetAfter, db: this.db });
      if (name === 'SELECT') this.select(args);
      return { kind: 'hold' };
    }
    if (name === 'MULTI') {
      this.held = [];
      return { kind: 'hold' };
    }
    if (name === 'SELECT') {
      this.select(args);
      return { kind: 'drop' };
    }
    const out: FilteredCommand[] = [];
    if (!this.emit(args, offsetAfter, this.db, out)) return { kind: 'drop' };
    return { kind: 'forward', commands: out };
  }

  private exec(args: Buffer[], offsetAfter: number): FilterStep {
    const held = this.held!;
    this.held = null;
    const out: FilteredCommand[] = [{ args: [MULTI], offsetAfter: -1 }];
    let kept = 0;
    for (const command of held) {
      if (commandName(command.args) === 'SELECT') continue;
      if (this.emit(command.args, -1, command.db, out)) kept++;
    }
    if (kept === 0) {
      // Nothing reached the writer, a SELECT of ours included: the writer's db is unchanged.
      return { kind: 'drop' };
    }
    out.push({ args, offsetAfter });
    return { kind: 'forward', commands: out };
  }

  /** Filters one command run in source db `db`; appends it (after a SELECT if needed) to `out`. */
  private emit(args: Buffer[], offsetAfter: number, db: number, out: FilteredCommand[]): boolean {
    const rewritten = this.rules.command(args, db);
    if (rewritten !== args) this.dropped++;
    if (!rewritten) return false;
    const target = this.rules.db.target(db)!;
    if (target !== this.writerDb) {
      out.push({ args: [SELECT, Buffer.from(String(target))], offsetAfter: -1 });
      this.writerDb = target;
    }
    out.push({ args: rewritten, offsetAfter });
    return true;
  }

  private select(args: Buffer[]): void {
    const text = args[1]?.toString('latin1') ?? '';
    // Redis only propagates numeric SELECTs; anything else keeps the current db.
    if (/^\d+$/.test(text)) this.db = Number(text);
  }
}
