import { describe, expect, it } from 'vitest';
import { RdbChecksumMismatchError, RdbTruncatedError } from '@shardbridge/rdb';
import { SourceRdbError } from './source-rdb-error.js';

describe('SourceRdbError', () => {
  const crc = new RdbChecksumMismatchError(26377, 1n, 2n);

  it('names the source and the offset, keeps the code, and says what the target holds', () => {
    const error = new SourceRdbError('10.0.0.5:6379', crc, { keys: 300, targetMode: 'replace' });
    expect(error.code).toBe('RDB_CHECKSUM_MISMATCH');
    expect(error.message).toMatch(
      /^the RDB sent by 10\.0\.0\.5:6379 is damaged: RDB checksum mismatch: .*\(at byte offset 26377\)\. The target holds the 300 keys written from it before that byte, and any of them may hold a damaged value; no checkpoint was kept, so the next attempt is a full resync that rewrites every key: run the sync again/,
    );
  });

  it('says nothing was written when the damage came before the first key', () => {
    const early = new RdbTruncatedError(9, 'RDB truncated');
    const error = new SourceRdbError('src', early, { keys: 0, targetMode: 'skip-existing' });
    expect(error.message).toContain('Nothing of it was written to the target; no checkpoint was kept');
  });

  it('warns that skip-existing and fail-if-not-empty do not simply rewrite the keys on the next attempt', () => {
    const skip = new SourceRdbError('src', crc, { keys: 5, targetMode: 'skip-existing' });
    expect(skip.message).toMatch(
      /"skip-existing" the next full resync keeps keys the target has: empty the target/,
    );
    const strict = new SourceRdbError('src', crc, { keys: 5, targetMode: 'fail-if-not-empty' });
    expect(strict.message).toMatch(/"fail-if-not-empty" the next attempt refuses the keys this one wrote/);
  });
});
