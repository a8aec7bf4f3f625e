#!/usr/bin/env node
/**
 * `npm run bench`: builds the workspace (tsc -b) and then runs the benchmarks (./main.mjs) against the BUILT packages
 * (`@shardbridge/*` resolved through the workspace links to dist/). It reports numbers and asserts nothing; it is
 * never part of `npm test`. See ./main.mjs for the scenarios and
 * ./lib/args.mjs for the flags.
 *
 * The build runs before any package is imported, so a fresh `npm ci` checkout (no dist/ yet) works too.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const build = spawnSync(process.execPath, [tsc, '-b'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) {
  console.error(`bench: build failed (tsc -b exited with ${build.status ?? build.signal})`);
  process.exit(1);
}

const { main } = await import('./main.mjs');
process.exitCode = await main(process.argv.slice(2), root);
