import { describe, expect, it } from 'vitest';
import { SourceDbHistory } from './source-db-history.js';

describe('SourceDbHistory', () => {
  it('answers the db selected at an acknowledged offset and forgets what is behind it', () => {
    const history = new SourceDbHistory(0);
    history.record(100, 3);
    history.record(150, 3);
    history.record(200, 5);
    expect(history.at(99)).toBe(0);
    expect(history.at(100)).toBe(3);
    expect(history.at(199)).toBe(3);
    expect(history.at(250)).toBe(5);
    history.reset(7);
    expect(history.at(1000)).toBe(7);
  });
});
