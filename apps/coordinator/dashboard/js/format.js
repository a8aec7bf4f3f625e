const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function formatBytes(bytes) {
  if (typeof bytes !== 'number' || !Number.isFinite(bytes) || bytes < 0) return '–';
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? Math.round(value) : value.toFixed(1)} ${UNITS[unit]}`;
}

export function formatMs(ms) {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.round(ms / 60_000)} min`;
}

export function formatCount(value) {
  if (typeof value !== 'number' || !Number.isFinite(value)) return '–';
  return Math.round(value).toLocaleString('en-US');
}

export function formatRate(value) {
  return `${formatCount(value)} ops/s`;
}

/** An offset of -1 means "no report yet". */
export function formatOffset(value) {
  return typeof value === 'number' && value >= 0 ? formatCount(value) : '–';
}

export function formatTime(value) {
  if (value === null || value === undefined) return '–';
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? '–' : date.toLocaleString();
}

/** `{ opsPerSecond: 500, bytesPerSecond: 1048576 }` → `500 ops/s, 1.0 MiB/s`; null when nothing is capped. */
export function formatCaps(caps) {
  if (typeof caps !== 'object' || caps === null) return null;
  const parts = [];
  if (typeof caps.opsPerSecond === 'number') parts.push(`${formatCount(caps.opsPerSecond)} ops/s`);
  if (typeof caps.bytesPerSecond === 'number') parts.push(`${formatBytes(caps.bytesPerSecond)}/s`);
  return parts.length > 0 ? parts.join(', ') : null;
}
