import { isDbAllowed, mappedDb, type SyncFilterSpec } from '@shardbridge/plan';

/** Where a source db goes under `filter.dbs` and `filter.dbMap`: a target db, or null when it is not synced. */
export class DbRule {
  /** true when the filter changes anything about dbs (so db-crossing commands need care) */
  readonly active: boolean;

  constructor(private readonly spec: SyncFilterSpec | undefined) {
    this.active = spec?.dbs !== undefined || Object.keys(spec?.dbMap ?? {}).length > 0;
  }

  /** the target db of source db `db`, or null when the db is filtered out */
  target(db: number): number | null {
    return isDbAllowed(this.spec, db) ? mappedDb(this.spec, db) : null;
  }

  /** synced to the same db number it has on the source */
  isIdentity(db: number): boolean {
    return this.target(db) === db;
  }
}
