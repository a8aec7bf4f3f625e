/**
 * The dotted paths at which two plans (as JSON) differ: `target.seeds`, `filter.keys`, `mode`. Arrays are compared
 * whole (a reordered seed list is a difference: it names the path, not each element). Key order is ignored.
 */
export function planDifferences(stored: unknown, wanted: unknown, path = ''): string[] {
  if (isRecord(stored) && isRecord(wanted)) {
    const names = [...new Set([...Object.keys(stored), ...Object.keys(wanted)])].sort();
    return names.flatMap((name) =>
      planDifferences(stored[name], wanted[name], path === '' ? name : `${path}.${name}`),
    );
  }
  return canonical(stored) === canonical(wanted) ? [] : [path === '' ? '(whole plan)' : path];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** JSON with object keys sorted, `undefined` members dropped (as JSON.stringify drops them). */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, member: unknown) =>
    isRecord(member)
      ? Object.fromEntries(
          Object.keys(member)
            .sort()
            .map((name) => [name, member[name]]),
        )
      : member,
  );
}
