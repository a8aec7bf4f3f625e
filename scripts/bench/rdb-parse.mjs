/**
 * Measure 1 — RDB parse rate: how fast `RdbParser` turns RDB bytes into key records, CPU only (the file is read
 * into memory first and fed in 64 KiB chunks, as a socket would deliver it). Two modes:
 *   decode=true   every value decoded into JS objects (inspect/diff tools);
 *   decode=false  only `record.restorePayload` built (what the full sync RESTOREs).
 * Best and median of 5 runs; MB/s is file bytes per second, keys/s is records per second.
 * Inputs: the largest file of ../shared/rdb-corpus/files (skipped when absent) and a synthetic RDB that
 * redis-server writes after DEBUG POPULATE <keys>.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { RdbParser } from '@shardbridge/rdb';
import { startServer } from './redis.mjs';
import { fmt, printHeading, round } from './report.mjs';

const CHUNK_BYTES = 64 * 1024;
const RUNS = 5;

export async function measureRdbParse(report, options, root) {
  printHeading('RDB parse rate (64 KiB chunks, best/median of 5)');
  const corpusFile = await largestCorpusFile(path.resolve(root, '..', 'shared', 'rdb-corpus', 'files'));
  if (corpusFile) {
    await measureFile(report, 'corpus', path.basename(corpusFile), await readFile(corpusFile));
  } else {
    report.skip('rdbParse.corpus', 'no ../shared/rdb-corpus/files next to the repo');
  }
  const synthetic = await syntheticRdb(options.keys);
  await measureFile(report, 'synthetic', `DEBUG POPULATE ${options.keys}`, synthetic);
}

async function largestCorpusFile(directory) {
  let names;
  try {
    names = await readdir(directory);
  } catch {
    return null;
  }
  let best = null;
  for (const name of names) {
    const file = path.join(directory, name);
    const info = await stat(file);
    if (info.isFile() && (!best || info.size > best.size)) best = { file, size: info.size };
  }
  return best?.file ?? null;
}

/** Fills a throwaway server with `keys` small strings, SAVEs, returns dump.rdb's bytes. */
async function syntheticRdb(keys) {
  const server = await startServer();
  try {
    const client = server.client();
    await client.call('DEBUG', 'POPULATE', String(keys));
    await client.call('SAVE');
    return await readFile(path.join(server.dir, 'dump.rdb'));
  } finally {
    await server.release();
  }
}

async function measureFile(report, section, source, bytes) {
  for (const decode of [true, false]) {
    const runs = [];
    for (let i = 0; i < RUNS; i++) runs.push(parseOnce(bytes, decode));
    const seconds = runs.map((run) => run.seconds).sort((a, b) => a - b);
    const best = seconds[0];
    const median = seconds[Math.floor(seconds.length / 2)];
    const keys = runs[0].keys;
    report.add(
      `rdbParse.${section}.${decode ? 'decode' : 'restorePayload'}`,
      {
        source,
        bytes: bytes.length,
        keys,
        runsSeconds: runs.map((run) => round(run.seconds, 4)),
        bestMBps: round(bytes.length / 1e6 / best),
        medianMBps: round(bytes.length / 1e6 / median),
        bestKeysPerSecond: Math.round(keys / best),
        medianKeysPerSecond: Math.round(keys / median),
      },
      [
        source,
        fmt.mb(bytes.length),
        `${fmt.count(keys)} keys`,
        `best ${fmt.mbps(bytes.length, best)} ${fmt.rate(keys, best, 'keys')}`,
        `median ${fmt.mbps(bytes.length, median)} ${fmt.rate(keys, median, 'keys')}`,
      ],
    );
  }
}

/** One timed parse. With decode=false the payload length is summed so the work cannot be skipped. */
function parseOnce(bytes, decode) {
  let keys = 0;
  let payloadBytes = 0;
  const parser = new RdbParser(
    {
      onKey(record) {
        keys += 1;
        if (!decode) payloadBytes += record.restorePayload.length;
      },
    },
    { decode },
  );
  const started = process.hrtime.bigint();
  for (let offset = 0; offset < bytes.length; offset += CHUNK_BYTES) {
    parser.push(bytes.subarray(offset, offset + CHUNK_BYTES));
  }
  parser.end();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { seconds, keys, payloadBytes };
}
