import { formatSlotRanges } from '../discovery/slot-ranges.js';
import type { PreflightNode, PreflightReport } from './preflight-report.js';

/**
 * The report as text for a terminal: one table per side, then the problems with their fixes, then a verdict
 * line. Columns are padded to their widest cell.
 */
export function formatPreflightReport(report: PreflightReport): string {
  const lines: string[] = [];
  lines.push(`Source (${report.source.type})`);
  lines.push(
    ...table(
      [...nodeColumns(report.source.type), 'rdb', 'psync', 'replconf', 'backlog', 'error'],
      report.source.shards.map((shard) => [
        ...nodeCells(shard),
        shard.rdbVersion === null ? '-' : String(shard.rdbVersion),
        shard.psync,
        shard.replconf,
        shard.replBacklogSize === 'unknown' ? 'unknown' : formatBytes(shard.replBacklogSize),
        shard.error ?? '',
      ]),
    ),
  );
  lines.push('');
  const covered =
    report.target.slotsCovered === null ? '' : `, ${report.target.slotsCovered}/16384 slots covered`;
  lines.push(`Target (${report.target.type}${covered})`);
  lines.push(
    ...table(
      [...nodeColumns(report.target.type), 'writable', 'error'],
      report.target.nodes.map((node) => [
        ...nodeCells(node),
        node.writable === null ? '-' : node.writable ? 'yes' : 'no',
        node.error ?? '',
      ]),
    ),
  );
  lines.push('');
  if (report.problems.length > 0) {
    lines.push(`Problems (${report.problems.length}):`);
    for (const problem of report.problems) {
      lines.push(`  [${problem.side}] ${problem.code} ${problem.address}: ${problem.message}`);
      lines.push(`      fix: ${problem.fix}`);
    }
    lines.push('');
  }
  if (report.warnings?.length) {
    lines.push(`Warnings (${report.warnings.length}):`);
    for (const warning of report.warnings) {
      lines.push(`  [${warning.side}] ${warning.code} ${warning.address}: ${warning.message}`);
      lines.push(`      fix: ${warning.fix}`);
    }
    lines.push('');
  }
  lines.push(`${report.ok ? 'OK' : 'FAILED'}: preflight took ${report.durationMs} ms`);
  return lines.join('\n');
}

/** Columns every checked node has, source or target; `nodeCells` fills them in this order. */
const NODE_COLUMNS = [
  'node',
  'slots',
  'role',
  'announced',
  'reachable',
  'mapped by',
  'connect',
  'auth',
  'version',
];

/** A standalone node is not announced by any cluster: its address column is the seed it was given. */
function nodeColumns(type: string): string[] {
  return type === 'standalone'
    ? NODE_COLUMNS.map((column) => (column === 'announced' ? 'seed' : column))
    : NODE_COLUMNS;
}

function nodeCells(node: PreflightNode): string[] {
  return [
    shortId(node.nodeId),
    formatSlotRanges(node.slots),
    node.role ?? '-',
    node.announced,
    node.reachable,
    node.mappedBy,
    node.connectMs === null ? '-' : `${node.connectMs} ms`,
    node.auth,
    node.version ?? '-',
  ];
}

function table(header: string[], rows: string[][]): string[] {
  if (rows.length === 0) return ['  (none)'];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column].length)),
  );
  const line = (cells: string[]) =>
    `  ${cells.map((cell, column) => cell.padEnd(widths[column])).join('  ')}`.trimEnd();
  return [line(header), ...rows.map(line)];
}

function shortId(nodeId: string | null): string {
  return nodeId ? nodeId.slice(0, 8) : '-';
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / 1024 / 1024} MB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KB`;
  return `${bytes} B`;
}
