/** Command-line flags of `npm run bench`. */

export const USAGE = `usage: npm run bench -- [--keys N] [--quick] [--only rdb|full|stream|bigkeys]
  --keys N      keys DEBUG POPULATE puts in the synthetic RDB and the full-sync source (default 1000000)
  --quick       smoke run: 100000 keys, a 5 MB big string, 100000 stream commands
  --only WHAT   run one measure: rdb (parse rate), full (full sync vs native replica), stream (incremental),
                bigkeys (worker peak RSS with a big list and a big string)
  --big-list-mib N, --big-string-mib N   sizes for bigkeys (default 1024 and 512; --quick: 96 and 80)`;

const MEASURES = ['rdb', 'full', 'stream', 'bigkeys'];

/**
 * @typedef {object} BenchOptions
 * @property {number} keys small keys loaded with DEBUG POPULATE
 * @property {number} bigStringBytes size of the one big string in the full-sync source
 * @property {number} streamCommands SETs redis-benchmark sends for the incremental measure
 * @property {boolean} quick
 * @property {Set<string>} measures which of rdb/full/stream to run
 */

/** Parses argv (without node and script). Throws an Error with the usage text on a bad flag. */
export function parseArgs(argv) {
  const options = {
    keys: 1_000_000,
    bigStringBytes: 50 * 1024 * 1024,
    streamCommands: 500_000,
    quick: false,
    measures: new Set(MEASURES),
    bigListMiB: 1024,
    bigStringMiB: 512,
  };
  let bigGiven = false;
  let keysGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '--quick') {
      options.quick = true;
    } else if (flag === '--keys') {
      options.keys = Number(argv[++i]);
      keysGiven = true;
      if (!Number.isSafeInteger(options.keys) || options.keys < 1) throw new Error(`bad --keys\n${USAGE}`);
    } else if (flag === '--only') {
      const what = argv[++i];
      if (!MEASURES.includes(what)) throw new Error(`bad --only ${what}\n${USAGE}`);
      options.measures = new Set([what]);
    } else if (flag === '--big-list-mib' || flag === '--big-string-mib') {
      const value = Number(argv[++i]);
      if (!Number.isSafeInteger(value) || value < 1) throw new Error(`bad ${flag}\n${USAGE}`);
      options[flag === '--big-list-mib' ? 'bigListMiB' : 'bigStringMiB'] = value;
      bigGiven = true;
    } else if (flag === '--help' || flag === '-h') {
      throw new Error(USAGE);
    } else {
      throw new Error(`unknown flag ${flag}\n${USAGE}`);
    }
  }
  if (options.quick) {
    if (!keysGiven) options.keys = 100_000;
    options.bigStringBytes = 5 * 1024 * 1024;
    options.streamCommands = 100_000;
    if (!bigGiven) {
      options.bigListMiB = 96;
      options.bigStringMiB = 80;
    }
  }
  return options;
}
