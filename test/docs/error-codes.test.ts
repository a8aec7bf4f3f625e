import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * Keeps the "Error codes" section of docs/operations.md true: every error code an operator can reach has a row
 * there, and every row names a code the source still has. Codes are string literals of the shipped source, never
 * comments (the files are parsed with the TypeScript compiler), found by two rules:
 * - an UPPER_SNAKE literal whose first word is one of {@link CODE_PREFIXES};
 * - an upper-case literal in a code position: the value of a `code` property, an argument of `super(…)` or of
 *   `new <Name>Error(…)`, or a member of a union type named `…Code`. This finds one-word codes such as
 *   `UNAUTHORIZED`, and codes of a prefix nobody added to the list yet.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const OPERATIONS = join(ROOT, 'docs/operations.md');
const SECTION = '## Error codes';

/** First words of the codes of ShardBridge's error classes, problem documents and shard failures. */
const CODE_PREFIXES = new Set([
  'REPL',
  'RDB',
  'TARGET',
  'PLAN',
  'PREFLIGHT',
  'DISCOVERY',
  'SCAN',
  'VERIFY',
  'VERIFICATION',
  'CUTOVER',
  'SHARD',
  'QUEUE',
  'CHECKPOINT',
  'JOB',
  'FILTER',
  'SYNC',
  'SOURCE',
  'ROLLOUT',
  'RESP',
  'BODY',
  'REQUEST',
  'QUERY',
  'ROUTE',
  'RATE',
  'UNSUPPORTED',
  'BAD',
]);

/** Literals that match the rules and are not error codes, each with the reason. */
const NOT_CODES = new Map<string, string>([
  // Redis command names (read-only script variants) in the command tables of the worker's filter and rewriter.
  ['EVAL_RO', 'a Redis command'],
  ['EVALSHA_RO', 'a Redis command'],
  ['FCALL_RO', 'a Redis command'],
  // The name of the verification queue's constant, should it ever be written as a literal.
  ['VERIFY_QUEUE', 'a queue name'],
]);

/** Other systems' names: environment variables, the test fixtures' codes, Node errno and TLS/OpenSSL codes. */
function isForeign(literal: string): boolean {
  return (
    /^SHARDBRIDGE_/.test(literal) || // environment variables
    /^TESTKIT_/.test(literal) || // packages/testkit's own errors (test fixtures, not shipped)
    /^E[A-Z]+$/.test(literal) || // Node errno codes (ENOENT, EISDIR, ECONNREFUSED)
    /^(ERR_|CERT_|UNABLE_TO_|ALERT_|DEPTH_ZERO_)/.test(literal) || // Node TLS / OpenSSL verification codes
    /SELF_SIGNED|CERTIFICATE/.test(literal)
  );
}

/** A whole code: no trailing `_` (prefix tests such as `startsWith('DISCOVERY_')` are not codes). */
const UPPER = /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$/;

function inCodePosition(node: ts.StringLiteralLike): boolean {
  const parent = node.parent;
  if ((ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) && parent.initializer === node) {
    return parent.name.getText() === 'code';
  }
  if (ts.isCallExpression(parent)) return parent.expression.kind === ts.SyntaxKind.SuperKeyword;
  // `new Error('…')` takes a message; ShardBridge's error classes take codes (`new ConflictError('PLAN_…', …)`).
  if (ts.isNewExpression(parent)) return /^\w+Error$/.test(parent.expression.getText());
  if (ts.isLiteralTypeNode(parent)) {
    let up: ts.Node = parent.parent;
    while (ts.isUnionTypeNode(up) || ts.isParenthesizedTypeNode(up)) up = up.parent;
    return ts.isTypeAliasDeclaration(up) && /Code$/.test(up.name.text);
  }
  return false;
}

/** The error codes in one source file's text. */
function codesIn(fileName: string, text: string): Set<string> {
  const codes = new Set<string>();
  const visit = (node: ts.Node): void => {
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) {
      const literal = node.text;
      const prefixed = literal.includes('_') && CODE_PREFIXES.has(literal.split('_', 1)[0]);
      if (UPPER.test(literal) && !NOT_CODES.has(literal) && !isForeign(literal)) {
        if (prefixed || inCodePosition(node)) codes.add(literal);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true));
  return codes;
}

/** `.ts` files of apps/<name>/src and packages/<name>/src that ship: no tests, test-support or testkit. */
async function sourceFiles(): Promise<string[]> {
  const files: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!['dist', 'node_modules', 'test-support'].includes(entry.name)) await walk(path);
      } else if (entry.name.endsWith('.ts') && !/\.(test|d)\.ts$/.test(entry.name)) {
        files.push(path);
      }
    }
  };
  for (const group of ['apps', 'packages']) {
    for (const entry of await readdir(join(ROOT, group), { withFileTypes: true })) {
      if (!entry.isDirectory() || (group === 'packages' && entry.name === 'testkit')) continue;
      await walk(join(ROOT, group, entry.name, 'src')).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
    }
  }
  return files.sort();
}

/** Every code of the source, with the files that hold it. */
async function sourceCodes(): Promise<Map<string, string[]>> {
  const found = new Map<string, string[]>();
  for (const file of await sourceFiles()) {
    for (const code of codesIn(file, await readFile(file, 'utf8'))) {
      found.set(code, [...(found.get(code) ?? []), relative(ROOT, file)]);
    }
  }
  return found;
}

interface Row {
  line: number;
  codes: string[];
  cells: string[];
}

/** The table rows of the section (header and separator rows left out), each with the codes of its first cell. */
async function documentedRows(): Promise<Row[]> {
  const lines = (await readFile(OPERATIONS, 'utf8')).split('\n');
  const start = lines.indexOf(SECTION);
  if (start < 0) return [];
  const rows: Row[] = [];
  for (let index = start + 1; index < lines.length && !lines[index].startsWith('## '); index += 1) {
    const line = lines[index];
    if (!line.startsWith('|') || /^\|\s*(code|---)/.test(line)) continue;
    const cells = line
      .split('|')
      .slice(1, -1)
      .map((cell) => cell.trim());
    const codes = [...cells[0].matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((match) => match[1]);
    rows.push({ line: index + 1, codes, cells });
  }
  return rows;
}

const ADD_ROWS =
  `add a row to the "${SECTION}" section of docs/operations.md for each: ` +
  '| `CODE` | where it shows | retried by itself | fix (from its message) |';

describe('docs/operations.md "Error codes"', () => {
  it('has a row for every error code of the source', async () => {
    const [found, rows] = await Promise.all([sourceCodes(), documentedRows()]);
    const documented = new Set(rows.flatMap((row) => row.codes));
    const missing = [...found.keys()].filter((code) => !documented.has(code)).sort();
    if (missing.length > 0) {
      expect.fail(
        `${missing.length} error code(s) have no row; ${ADD_ROWS}\n` +
          missing.map((code) => `  ${code} (${found.get(code)!.join(', ')})`).join('\n'),
      );
    }
  });

  it('has no row for a code the source no longer has', async () => {
    const [found, rows] = await Promise.all([sourceCodes(), documentedRows()]);
    const stale = rows.flatMap((row) =>
      row.codes.filter((code) => !found.has(code)).map((code) => ({ code, row })),
    );
    if (stale.length > 0) {
      expect.fail(
        'rows of docs/operations.md name codes that no source file has: remove them, or rename them to the new ' +
          `code:\n${stale.map(({ code, row }) => `  ${code} (docs/operations.md:${row.line})`).join('\n')}`,
      );
    }
  });

  it('gives each code one row with where it shows, whether it is retried and its fix', async () => {
    const rows = await documentedRows();
    expect(rows.length).toBeGreaterThan(0);
    const seen = new Map<string, number>();
    const problems: string[] = [];
    for (const row of rows) {
      if (row.codes.length !== 1) problems.push(`docs/operations.md:${row.line}: one code per row`);
      if (row.cells.length !== 4 || row.cells.some((cell) => cell === '')) {
        problems.push(`docs/operations.md:${row.line}: four non-empty cells (code, shows as, retried, fix)`);
      }
      for (const code of row.codes) {
        if (seen.has(code))
          problems.push(`docs/operations.md:${row.line}: ${code} has a row at line ${seen.get(code)}`);
        seen.set(code, row.line);
      }
    }
    expect(problems, problems.join('\n')).toEqual([]);
  });
});

describe('the code scanner', () => {
  it('finds codes in code positions and by prefix, not in comments, commands, prefixes or foreign codes', () => {
    const sample = `
      export type WidgetErrorCode = 'WIDGET_BROKEN' | 'INTERNAL';
      class A extends Error { readonly code = 'REPL_SAMPLE'; }
      class B extends PublicError { constructor() { super(401, 'UNAUTHORIZED', 'Authentication required', ''); } }
      const c = new ConflictError('PLAN_SAMPLE', 'detail in words');
      const d = { code: 'NEWPREFIX_SAMPLE', message: 'Shown As Words' };
      const e = code === 'TARGET_SAMPLE' ? 1 : 2;
      // a comment naming 'REPL_IN_COMMENT' is no code
      /** nor is \`SCAN_IN_DOC\` */
      const commands = ['EVAL_RO', 'FCALL_RO', 'SELECT', 'MULTI'];
      const env = 'SHARDBRIDGE_API_TOKEN';
      const errno = Object.assign(new Error('not a file'), { code: 'EISDIR' });
      const tls = ['CERT_HAS_EXPIRED', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'];
      const isDiscovery = (text: string) => text.startsWith('DISCOVERY_');
      throw new Error('PLEASE');
    `;
    expect([...codesIn('sample.ts', sample)].sort()).toEqual([
      'INTERNAL',
      'NEWPREFIX_SAMPLE',
      'PLAN_SAMPLE',
      'REPL_SAMPLE',
      'TARGET_SAMPLE',
      'UNAUTHORIZED',
      'WIDGET_BROKEN',
    ]);
  });
});
