// Parse throughput of the built parser (run `npx tsc -b packages/rdb` first):
//   node packages/rdb/bench/parse-bench.mjs [file.rdb ...]
// Defaults to the corpus's largest files. Feeds 64 KiB chunks (like a file stream), decode on,
// checksum verified; prints the median of several runs.
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RdbParser } from '../dist/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const corpus = path.resolve(here, '..', '..', '..', '..', 'shared', 'rdb-corpus', 'files');
const files = process.argv.slice(2);
if (files.length === 0) {
  for (const name of ['redis-7.0.15-big.rdb', 'redis-7.4.1-types.rdb', 'redis-7.0.15-types.rdb']) {
    const p = path.join(corpus, name);
    if (existsSync(p)) files.push(p);
  }
}

const CHUNK = 64 * 1024;
const RUNS = 7;

function run(buf, options) {
  let keys = 0;
  let payloadBytes = 0;
  const parser = new RdbParser(
    {
      onKey: (r) => {
        keys++;
        if (options.payload) payloadBytes += r.restorePayload.length;
      },
    },
    options,
  );
  const start = process.hrtime.bigint();
  for (let at = 0; at < buf.length; at += CHUNK) parser.push(buf.subarray(at, at + CHUNK));
  parser.end();
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, keys, payloadBytes };
}

for (const file of files) {
  const buf = readFileSync(file);
  for (const [label, options] of [
    ['decode', { decode: true }],
    ['decode+payload', { decode: true, payload: true }],
    ['payload only (decode: false)', { decode: false, payload: true }],
  ]) {
    run(buf, options); // warm-up
    const times = [];
    let keys = 0;
    for (let i = 0; i < RUNS; i++) {
      const r = run(buf, options);
      times.push(r.ms);
      keys = r.keys;
    }
    times.sort((a, b) => a - b);
    const ms = times[Math.floor(RUNS / 2)];
    const mbps = buf.length / 1e6 / (ms / 1000);
    console.log(
      `${path.basename(file)} (${(buf.length / 1e6).toFixed(2)} MB, ${keys} keys) ${label}: ` +
        `${ms.toFixed(1)} ms, ${mbps.toFixed(1)} MB/s, ${Math.round(keys / (ms / 1000))} keys/s`,
    );
  }
}
