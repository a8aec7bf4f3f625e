import type { KeyVerdict } from './key-compare.js';

/** A key found different in the first pass, with its latest verdict. */
export interface Suspect {
  db: number;
  key: Buffer;
  verdict: KeyVerdict;
}

export interface RecheckOptions {
  /** passes in all, the first (which found the suspects) included */
  rounds: number;
  /** wait before each re-check, so writes in flight reach the target */
  delayMs: number;
  /** compares one key again; null = it agrees now */
  compare: (db: number, key: Buffer) => Promise<KeyVerdict | null>;
  /** keys compared at once */
  concurrency: number;
  /** stops early (the job is being cancelled) */
  aborted?: () => boolean;
}

/**
 * Re-checks the keys that differed until they agree or the rounds are used up. On a live source a key written
 * between the read of the source and the read of the target differs for a moment only; a real difference persists
 * through every round. Returns the keys that differed in every round (with the last verdict) and the rounds run.
 */
export async function recheckRounds(
  suspects: Suspect[],
  options: RecheckOptions,
): Promise<{ remaining: Suspect[]; roundsRun: number }> {
  let remaining = suspects;
  let roundsRun = 1;
  while (remaining.length > 0 && roundsRun < options.rounds && !options.aborted?.()) {
    await new Promise((resolve) => setTimeout(resolve, options.delayMs));
    roundsRun++;
    const verdicts = await mapWithLimit(remaining, options.concurrency, (suspect) =>
      options.compare(suspect.db, suspect.key),
    );
    remaining = remaining.flatMap((suspect, index) => {
      const verdict = verdicts[index];
      return verdict ? [{ ...suspect, verdict }] : [];
    });
  }
  return { remaining, roundsRun };
}

/** `fn` over `items` with at most `limit` calls pending; results in input order. */
export async function mapWithLimit<T, R>(
  items: T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]);
    }
  });
  await Promise.all(lanes);
  return results;
}
