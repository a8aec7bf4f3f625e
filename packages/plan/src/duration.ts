const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parses a duration such as `"30s"`, `"2m"`, `"1.5s"`, `"250ms"`, `"1h"` or a bare number of ms into ms (an
 * integer, rounded). Returns null when the text is not a non-negative duration.
 */
export function parseDuration(text: string): number | null {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text);
  if (!match) return null;
  return Math.round(Number(match[1]) * UNITS[match[2] ?? 'ms']);
}
