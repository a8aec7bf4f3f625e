import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * Keeps the "Error codes" section of docs/operations.md true: every error code an operator can reach is a row
 * there, and every row names a code the source still has. Codes are string literals of the source (never comments:
 * the files are parsed with the TypeScript compiler), found by two rules:
 * - an UPPER_SNAKE literal whose first word is one of {@link CODE_PREFIXES};
 * - an upper-case literal in a code position: the value of a `code` property, an argument of `super(…)` or of
 *   `new …Error(…)`, or a member of a union type named `…Code` — this is how one-word codes such as
 *   `UNAUTHORIZED` are found, and new prefixes that nobody added to the list yet.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const OPERATIONS = join(ROOT, 'docs/operations.md');
const SECTION = '## Error codes';

/** First words of the codes of ShardBridge's error classes, problem documents and shard failures. */
const CODE_PREFIXES = [
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
];

/** Literals that look like codes and are not ShardBridge's: each with the reason. */
const NOT_CODES = new Map<string, string>([
  // Redis command names (read-only script variants) in the command tables of the worker's filter and rewriter.
  ['EVAL_RO', 'a Redis command'],
  ['EVALSHA_RO', 'a Redis command'],
  ['FCALL_RO', 'a Redis command'],
  // The name of the verification queue in the queue Redis, not an error.
  ['VERIFY_QUEUE', 'a queue name'],
]);

/** Literals of other systems' codes that a code position may hold (a faked Node errno, OpenSSL reasons). */
function isForeignCode(literal: string): boolean {
  return (
    /^SHARDBRIDGE_/.test(literal) || // environment variables
    /^TESTKIT_/.test(literal) || // the test fixtures' own errors
    /^E[A-Z]+$/.test(literal) || // Node errno codes (ENOENT, EISDIR, ECONNREFUSED)
    /^(ERR_|CERT_|UNABLE_TO_|ALERT_|DEPTH_ZERO_)/.test(literal) || // Node TLS / OpenSSL codes
    /SELF_SIGNED|CERTIFICATE/.test(literal)
  );
}

const UPPER = /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$/;

/** `.ts` files of apps/* /src and packages/* /src that ship: no tests, no test fixtures, no testkit. */
async function sourceFiles(): Promise<string[]> {
  const files: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'dist' && entry.name !== 'node_modules' && entry.name !== 'test-support') await walk(path);
      } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') && !entry.name.endsWith('.d.ts')) {
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

function inCodePosition(node: ts.StringLiteralLike): boolean {
  const parent = node.parent;
  if ((ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) && parent.initializer === node) {
    return parent.name.getText() === 'code';
  }
  if (ts.isCallExpression(parent) && parent.expression.kind === ts.SyntaxKind.SuperKeyword) return true;
  if (ts.isNewExpression(parent)) return /Error$/.test(parent.expression.getText());
  if (ts.isLiteralTypeNode(parent)) {
    let up: ts.Node = parent.parent;
    while (ts.isUnionTypeNode(up)) up = up.parent;
    return ts.isTypeAliasDeclaration(up) && /Code$/.test(up.name.text);
  }
  return false;
}

/** Every code of the source, with the files that hold it. */
async function sourceCodes(): Promise<Map<string, Set<string>>> {
  const codes = new Map<string, Set<string>>();
  for (const file of await sourceFiles()) {
    const text = await readFile(file, 'utf8');
    const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node): void => {
      if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) {
        const literal = node.text;
        const prefixed = literal.includes('_') && CODE_PREFIXES.includes(literal.split('_', 1)[0]);
        if (
          UPPER.test(literal) &&
          !NOT_CODES.has(literal) &&
          !isForeignCode(literal) &&
          (prefixed || inCodePosition(node))
        ) {
          if (!codes.has(literal)) codes.set(literal, new Set());
          codes.get(literal)!.add(relative(ROOT, file));
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return codes;
}

/** The codes of the section's tables: each backticked code in the first cell of a row. */
async function documentedCodes(): Promise<Set<string>> {
  const text = await readFile(OPERATIONS, 'utf8');
  const start = text.indexOf(`\n${SECTION}\n`);
  if (start < 0) return new Set();
  const next = text.indexOf('\n## ', start + SECTION.length + 1);
  const section = text.slice(start, next < 0 ? undefined : next);
  const codes = new Set<string>();
  for (const line of section.split('\n')) {
    const first = /^\|([^|]*)\|/.exec(line)?.[1] ?? '';
    for (const match of first.matchAll(/`([A-Z][A-Z0-9_]*)`/g)) codes.add(match[1]);
  }
  return codes;
}

describe('docs/operations.md "Error codes"', () => {
  it('has a row for every error code of the source', async () => {
    const [found, documented] = await Promise.all([sourceCodes(), documentedCodes()]);
    const missing = [...found.keys()]
      .filter((code) => !documented.has(code))
      .sort()
      .map((code) => `${code} (${[...found.get(code)!].join(', ')})`);
    expect(
      missing,
      `error codes with no row in docs/operations.md "${SECTION}": add a row for each (where it shows, whether ` +
        'the shard retries it, the fix from its message):\n  ' +
        missing.join('\n  '),
    ).toEqual([]);
  });

  it('has no row for a code the source no longer has', async () => {
    const [found, documented] = await Promise.all([sourceCodes(), documentedCodes()]);
    const stale = [...documented].filter((code) => !found.has(code)).sort();
    expect(
      stale,
      `rows of docs/operations.md "${SECTION}" name codes no source file has: remove or rename them:\n  ` +
        stale.join('\n  '),
    ).toEqual([]);
  });
});
