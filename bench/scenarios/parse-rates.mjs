/**
 * Scenario 6 — CPU-only rates, in memory (the input is read first and fed in 64 KiB chunks, as a socket delivers
 * it); each measure runs twice untimed first (the JIT warms up: a cold first parse is ~2× slower), then best
 * and median of 5 timed runs; MB = 10^6 bytes of input per second.
 *   RDB parse:   `RdbParser` on the RDB redis-server SAVEs from the generated dataset, in both modes:
 *                payload mode (`decode: false`, builds each key's RESTORE payload: what the full sync does) and
 *                decode mode (every value decoded into JS objects: inspect/diff tools);
 *   RESP decode: `RespDecoder` on a replication-stream-like buffer of SET/LPUSH/HSET/ZADD commands (the
 *                incremental phase's input).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { RdbParser } from '@shardbridge/rdb';
import { encodeCommand, RespDecoder } from '@shardbridge/resp';
import { fmt, printHeading, round } from '../lib/report.mjs';

const CHUNK_BYTES = 64 * 1024;
const RUNS = 5;
const WARM_UP_RUNS = 2;

/** `source` holds the generated dataset (nothing else yet). */
export async function scenarioParseRates(report, { source }, options) {
  printHeading('Scenario 6: RDB parse rate and RESP decode rate, in memory (best/median of 5)');
  await source.client().call('SAVE');
  const rdb = await readFile(path.join(source.dir, 'dump.rdb'));
  const payload = timed(RUNS, () => parseRdb(rdb, false));
  const decoded = timed(RUNS, () => parseRdb(rdb, true));
  const stream = respStream(options.quick ? 50_000 : 500_000);
  const resp = timed(RUNS, () => decodeResp(stream));
  const mbps = (bytes, seconds) => round(bytes / 1e6 / seconds, 1);
  const values = {
    rdbBytes: rdb.length,
    rdbKeys: payload.result,
    rdbPayloadMode: {
      bestMBps: mbps(rdb.length, payload.best),
      medianMBps: mbps(rdb.length, payload.median),
    },
    rdbDecodeMode: { bestMBps: mbps(rdb.length, decoded.best), medianMBps: mbps(rdb.length, decoded.median) },
    respBytes: stream.length,
    respCommands: resp.result,
    resp: {
      bestMBps: mbps(stream.length, resp.best),
      medianMBps: mbps(stream.length, resp.median),
      bestCommandsPerSecond: Math.round(resp.result / resp.best),
    },
  };
  report.row(
    'parse',
    {
      scenario: `6. RDB parse (${fmt.mb(rdb.length)} RDB), RESP decode`,
      ours:
        `RDB ${values.rdbPayloadMode.medianMBps} MB/s as payloads, ${values.rdbDecodeMode.medianMBps} MB/s decoded; ` +
        `RESP ${values.resp.medianMBps} MB/s (${fmt.count(values.resp.bestCommandsPerSecond)} cmds/s)`,
      reference: '—',
      ratio: '—',
      goal: 'RDB ≥ 200 MB/s',
    },
    values,
  );
}

function timed(runs, fn) {
  const seconds = [];
  let result;
  for (let i = 0; i < WARM_UP_RUNS; i++) fn();
  for (let i = 0; i < runs; i++) {
    const started = process.hrtime.bigint();
    result = fn();
    seconds.push(Number(process.hrtime.bigint() - started) / 1e9);
  }
  seconds.sort((a, b) => a - b);
  return { best: seconds[0], median: seconds[Math.floor(seconds.length / 2)], result };
}

/** One parse; returns the key count. In payload mode the payload length is summed so the work cannot be skipped. */
function parseRdb(bytes, decode) {
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
  for (let offset = 0; offset < bytes.length; offset += CHUNK_BYTES) {
    parser.push(bytes.subarray(offset, offset + CHUNK_BYTES));
  }
  parser.end();
  return keys + (payloadBytes < 0 ? 1 : 0);
}

/** `count` write commands like redis-benchmark's, encoded as a replication stream would carry them. */
function respStream(count) {
  const value = Buffer.alloc(32, 'x');
  const parts = [];
  for (let i = 0; i < count; i++) {
    const n = String(i % 100_000).padStart(12, '0');
    switch (i % 4) {
      case 0:
        parts.push(encodeCommand(['SET', `key:${n}`, value]));
        break;
      case 1:
        parts.push(encodeCommand(['LPUSH', 'mylist', value]));
        break;
      case 2:
        parts.push(encodeCommand(['HSET', `myhash:${n}`, `element:${n}`, value]));
        break;
      default:
        parts.push(encodeCommand(['ZADD', `myzset:${n}`, String(i), `element:${n}`]));
    }
  }
  return Buffer.concat(parts);
}

function decodeResp(bytes) {
  let frames = 0;
  const decoder = new RespDecoder(() => {
    frames += 1;
  });
  for (let offset = 0; offset < bytes.length; offset += CHUNK_BYTES) {
    decoder.push(bytes.subarray(offset, offset + CHUNK_BYTES));
  }
  return frames;
}
