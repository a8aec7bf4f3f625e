/**
 * A zset score as command text that the server parses back (strtod) to the very same double: JavaScript's
 * shortest round-trip form, with Redis's spellings of the infinities and the sign of negative zero kept
 * (`String(-0)` is "0").
 */
export function scoreText(score: number): string {
  if (score === Infinity) return 'inf';
  if (score === -Infinity) return '-inf';
  if (Object.is(score, -0)) return '-0';
  if (Number.isNaN(score)) throw new RangeError('a zset score cannot be NaN');
  return String(score);
}
