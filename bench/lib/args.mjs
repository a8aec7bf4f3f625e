/** Command-line flags of `npm run bench`. */

export const SCENARIOS = ['full', 'cluster', 'incremental', 'parallel', 'memory', 'parse', 'wan'];

export const USAGE = `usage: npm run bench -- [--quick] [--keys N] [--seed N] [--only LIST] [--seconds N]
  --quick       smoke run (CI): 20000 keys, 5 s of load, 96 MiB list + 80 MiB string, default threshold only
  --keys N      keys in the generated dataset (default 1000000)
  --seed N      dataset seed (default 1): same seed and --keys, same data
  --only LIST   comma-separated scenarios, in this order whatever the list says:
                  full         full sync standalone -> standalone, ShardBridge vs native REPLICAOF
                  cluster      full copy into a 3-master cluster, ShardBridge vs redis-cli --cluster import
                  incremental  redis-benchmark SET/LPUSH/HSET/ZADD -P 16 on the source: ops/s, lag p50/p99
                  parallel     1 shard / 1 worker vs 2 shards / 2 workers, throughput ratio
                  memory       worker peak RSS with a big list and a big string
                  parse        RDB parse rate and RESP decode rate, in memory
                  wan          through a latency proxy (round trips --wan-rtts): full sync vs native REPLICAOF,
                               both placements; redis-benchmark SET/INCR/LPUSH -P 16 live stream, exactly-once too
  --seconds N   load duration of the incremental scenario (default 30, --quick 5)
  --parallel-keys N   keys per shard in the parallel scenario (default --keys / 4)
  --big-list-mib N, --big-string-mib N   sizes for memory (default 512 and 512; --quick: 96 and 80)
  --wan-rtts LIST     round trips (ms) the wan scenario simulates (default 0,20,80,150; --quick 0,80)
  --wan-keys N        keys in the wan scenario's dataset (default 200000, --quick 20000)
  --wan-seconds N     load duration of each wan live stream (default 10, --quick 3)
  --wan-catch-up N    seconds a wan live stream may take to catch up after the load (default 120, --quick 15)`;

/**
 * @typedef {object} BenchOptions
 * @property {number} keys keys of the generated dataset
 * @property {number} seed dataset seed
 * @property {number} seconds incremental load duration
 * @property {number} parallelKeys keys per shard, parallel scenario
 * @property {number} bigListMiB
 * @property {number} bigStringMiB
 * @property {number[]} bigKeyThresholds bigKeyThreshold values the memory scenario runs (null = plan default)
 * @property {number[]} wanRtts round trips (ms) of the wan scenario
 * @property {number} wanKeys keys of the wan scenario's dataset
 * @property {number} wanSeconds load duration of each wan live stream
 * @property {number} wanCatchUpSeconds bound on a wan live stream's catch-up after the load
 * @property {boolean} quick
 * @property {Set<string>} scenarios
 */

function positiveInteger(flag, raw) {
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`bad ${flag} ${raw}\n${USAGE}`);
  return value;
}

/** Parses argv (without node and script). Throws an Error with the usage text on a bad flag. */
export function parseArgs(argv) {
  const given = {};
  let quick = false;
  let scenarios = new Set(SCENARIOS);
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '--quick') {
      quick = true;
    } else if (flag === '--only') {
      const list = String(argv[++i] ?? '').split(',');
      for (const name of list) {
        if (!SCENARIOS.includes(name)) throw new Error(`bad --only ${name}\n${USAGE}`);
      }
      scenarios = new Set(list);
    } else if (flag === '--wan-rtts') {
      const raw = String(argv[++i] ?? '');
      given[flag] = raw.split(',').map((item) => {
        const value = Number(item);
        if (item === '' || !Number.isSafeInteger(value) || value < 0)
          throw new Error(`bad ${flag} ${raw}\n${USAGE}`);
        return value;
      });
    } else if (
      [
        '--keys',
        '--seed',
        '--seconds',
        '--parallel-keys',
        '--big-list-mib',
        '--big-string-mib',
        '--wan-keys',
        '--wan-seconds',
        '--wan-catch-up',
      ].includes(flag)
    ) {
      given[flag] = positiveInteger(flag, argv[++i]);
    } else if (flag === '--help' || flag === '-h') {
      throw new Error(USAGE);
    } else {
      throw new Error(`unknown flag ${flag}\n${USAGE}`);
    }
  }
  const keys = given['--keys'] ?? (quick ? 20_000 : 1_000_000);
  return {
    quick,
    scenarios,
    keys,
    seed: given['--seed'] ?? 1,
    seconds: given['--seconds'] ?? (quick ? 5 : 30),
    parallelKeys: given['--parallel-keys'] ?? Math.max(1000, Math.floor(keys / 4)),
    bigListMiB: given['--big-list-mib'] ?? (quick ? 96 : 512),
    bigStringMiB: given['--big-string-mib'] ?? (quick ? 80 : 512),
    bigKeyThresholds: quick ? [null] : [null, 16 * 1024 * 1024],
    wanRtts: given['--wan-rtts'] ?? (quick ? [0, 80] : [0, 20, 80, 150]),
    wanKeys: given['--wan-keys'] ?? (quick ? 20_000 : 200_000),
    wanSeconds: given['--wan-seconds'] ?? (quick ? 3 : 10),
    wanCatchUpSeconds: given['--wan-catch-up'] ?? (quick ? 15 : 120),
  };
}
