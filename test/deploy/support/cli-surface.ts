import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../../support/cli-process.js';
import { REPO_ROOT } from './manifests.js';

/** The `--flags` that `shardbridge <command> --help` lists, read from the built binary. */
export async function helpFlags(command: string): Promise<Set<string>> {
  const result = await runCli([command, '--help']);
  if (result.code !== 0)
    throw new Error(`shardbridge ${command} --help exited ${result.code}: ${result.stderr}`);
  return new Set([...result.stdout.matchAll(/(?:^|\s|,)(--[a-z][a-z0-9-]*)/g)].map((match) => match[1]!));
}

/** The default a `--help` line states for `flag`, e.g. `20000` of `(default: 20000)`. */
export async function helpDefault(command: string, flag: string): Promise<string | undefined> {
  const result = await runCli([command, '--help']);
  const line = result.stdout.split('\n').find((candidate) => candidate.trimStart().startsWith(`${flag} `));
  return line ? /\(default: "?([^",)]+)"?/.exec(line)?.[1] : undefined;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

/**
 * Every `SHARDBRIDGE_*` name the sources of the apps and packages (not their tests) write as a string literal or
 * read as `process.env.NAME`: the environment variables the code knows.
 */
export function environmentVariablesInCode(): Set<string> {
  const roots = ['apps', 'packages'].flatMap((top) =>
    readdirSync(join(REPO_ROOT, top), { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => join(REPO_ROOT, top, entry.name, 'src')),
  );
  const names = new Set<string>();
  for (const root of roots) {
    let files: string[];
    try {
      files = sourceFiles(root);
    } catch {
      continue;
    }
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      for (const match of text.matchAll(/(?:['"`]|process\.env\.)(SHARDBRIDGE_[A-Z0-9_]+)\b/g)) {
        names.add(match[1]!);
      }
    }
  }
  return names;
}
