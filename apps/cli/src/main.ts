import { Command, CommanderError, Option } from 'commander';
import { CliError, EXIT_USAGE, reportError } from './cli-error.js';
import { ENV, positiveInteger, redisUrl } from './env-options.js';
import { addQueueTlsOptions, queueConnectionFromFlags } from './queue-options.js';

// Each command's module is imported when that command runs: a worker or a --direct sync does not load the
// coordinator's HTTP stack, and `--help` stays quick.
const program = new Command('shardbridge')
  .description('Move live Redis data between clouds, shard by shard — also when the source sits behind NAT.')
  .version('0.1.0')
  .showHelpAfterError()
  .exitOverride();

const run = program
  .command('run')
  .description(
    'sync a plan in one process (coordinator + workers + an embedded queue): full sync, then live until SIGINT/SIGTERM',
  )
  .argument('<plan.json>', 'the sync plan (see README: "Plan")')
  .addOption(
    new Option('--queue <redis-url>', 'use this queue Redis instead of the embedded one').argParser(redisUrl),
  )
  .option('--data-dir <dir>', 'where the embedded queue keeps plans, jobs and checkpoints', '.shardbridge')
  .option('--concurrency <n>', 'shard jobs at once', positiveInteger, 4)
  .option('--direct', 'one standalone source, in-process, no queue; checkpoints in files', false)
  .option(
    '--replan',
    'a stored plan of the same name is deleted (jobs, checkpoints) and planned again from the file: a new full sync',
    false,
  )
  .option('--checkpoint-dir <dir>', 'with --direct: where resume points are kept', '.shardbridge/checkpoints')
  .option('--log-level <level>', 'pino log level on stderr (trace|debug|info|warn|error)', 'info')
  .option('--progress-interval <ms>', 'print a progress line this often', positiveInteger, 2000)
  .option('--max-reconnects <n>', 'reconnect attempts in a row before the shard fails', positiveInteger, 10);
addQueueTlsOptions(run).action(async (plan: string, opts) => {
  const { runCommand } = await import('./commands/run-command.js');
  await runCommand(plan, {
    direct: opts.direct,
    replan: opts.replan,
    queue: queueConnectionFromFlags(opts),
    dataDir: opts.dataDir,
    concurrency: opts.concurrency,
    checkpointDir: opts.checkpointDir,
    logLevel: opts.logLevel,
    progressIntervalMs: opts.progressInterval,
    maxReconnects: opts.maxReconnects,
  });
});

const queueOption = () =>
  new Option('--queue <redis-url>', "the queue's Redis (appendonly yes, noeviction)")
    .env(ENV.queue)
    .argParser(redisUrl);
const logLevelOption = () => new Option('--log-level <level>', 'pino log level').default('info');
const apiOption = () =>
  new Option('--api <url>', "the coordinator's base URL").env(ENV.api).default('http://127.0.0.1:8080');
/** For an HTTPS coordinator: the CA to verify it, and a client certificate when it requires mutual TLS. */
const apiTlsOptions = (command: Command): Command =>
  command
    .addOption(
      new Option('--api-ca <file>', "CA (PEM) that signed the coordinator's certificate").env(ENV.apiCa),
    )
    .addOption(new Option('--api-cert <file>', 'client certificate (PEM) for mutual TLS').env(ENV.apiCert))
    .addOption(new Option('--api-key <file>', "the client certificate's private key (PEM)").env(ENV.apiKey));
const apiTlsFiles = (opts: { apiCa?: string; apiCert?: string; apiKey?: string }) => ({
  apiCa: opts.apiCa,
  apiCert: opts.apiCert,
  apiKey: opts.apiKey,
});

const coordinator = program
  .command('coordinator')
  .description('HTTP API (plans, status, stop/resume/retry), queue UI at /ui, Prometheus /metrics')
  .addOption(queueOption())
  .addOption(new Option('--port <n>', 'TCP port').env(ENV.port).default(8080).argParser(positiveInteger))
  .addOption(new Option('--host <addr>', 'listen address').env(ENV.host).default('127.0.0.1'))
  .addOption(
    new Option(
      '--topology-check <ms>',
      'how often cluster sources are re-read to follow resharding (0 = off)',
    )
      .default(10_000)
      .argParser(positiveInteger),
  )
  .addOption(
    new Option(
      '--rate-limit <n>',
      'changing API requests (POST/DELETE) per client address per minute (0 = off)',
    )
      .env(ENV.rateLimit)
      .default(120)
      .argParser(positiveInteger),
  )
  .addOption(
    new Option('--body-limit <bytes>', 'largest accepted JSON request body')
      .default(262_144)
      .argParser(positiveInteger),
  )
  .addOption(
    new Option('--tls-cert <file>', 'serve HTTPS with this certificate chain (PEM)').env(ENV.tlsCert),
  )
  .addOption(new Option('--tls-key <file>', 'private key (PEM) of --tls-cert').env(ENV.tlsKey))
  .addOption(
    new Option(
      '--tls-client-ca <file>',
      'require client certificates signed by this CA (PEM): mutual TLS',
    ).env(ENV.tlsClientCa),
  )
  .addOption(logLevelOption());
addQueueTlsOptions(coordinator).action(async (opts) => {
  const { coordinatorCommand } = await import('./commands/coordinator-command.js');
  await coordinatorCommand({
    queue: queueConnectionFromFlags(opts),
    port: opts.port,
    host: opts.host,
    logLevel: opts.logLevel,
    topologyCheckMs: opts.topologyCheck,
    rateLimit: opts.rateLimit,
    bodyLimitBytes: opts.bodyLimit,
    tlsCert: opts.tlsCert,
    tlsKey: opts.tlsKey,
    tlsClientCa: opts.tlsClientCa,
  });
});

const worker = program
  .command('worker')
  .description('run shard jobs from the queue (any number of processes, on any number of hosts)')
  .addOption(queueOption())
  .addOption(
    new Option('--concurrency <n>', 'shard jobs at once in this process')
      .env(ENV.concurrency)
      .default(1)
      .argParser(positiveInteger),
  )
  .addOption(
    new Option(
      '--migration-barrier-timeout <ms>',
      'how long migrated keys of a reshard wait for the other shards before they are applied anyway',
    )
      .default(60_000)
      .argParser(positiveInteger),
  )
  .addOption(
    new Option(
      '--verify-concurrency <n>',
      'shard verifications (verify, cutover) at once in this process, next to its shards; 0 = none',
    )
      .default(2)
      .argParser(positiveInteger),
  )
  .addOption(
    new Option(
      '--lock-duration <ms>',
      'how long a shard job’s lock outlives its worker: a dead worker’s shards restart after about this plus --stalled-interval',
    )
      .default(10_000)
      .argParser(positiveInteger),
  )
  .addOption(
    new Option('--stalled-interval <ms>', 'how often this worker looks for shard jobs whose worker died')
      .default(5_000)
      .argParser(positiveInteger),
  )
  .addOption(logLevelOption());
addQueueTlsOptions(worker).action(async (opts) => {
  const { workerCommand } = await import('./commands/worker-command.js');
  await workerCommand({
    queue: queueConnectionFromFlags(opts),
    concurrency: opts.concurrency,
    logLevel: opts.logLevel,
    migrationBarrierTimeoutMs: opts.migrationBarrierTimeout,
    verifyConcurrency: opts.verifyConcurrency,
    lockDurationMs: opts.lockDuration,
    stalledIntervalMs: opts.stalledInterval,
  });
});

apiTlsOptions(program.command('submit'))
  .description('submit a plan to the coordinator; prints the plan id and its shards')
  .argument('<plan.json>')
  .addOption(apiOption())
  .option('--json', 'print the API answer as JSON', false)
  .action(async (plan: string, opts) => {
    const { submitCommand } = await import('./commands/submit-command.js');
    await submitCommand(plan, { api: opts.api, json: opts.json, apiTls: apiTlsFiles(opts) });
  });

apiTlsOptions(program.command('status'))
  .description('per-shard phase, progress, lag and ops/s of a plan')
  .argument('<planId>')
  .addOption(apiOption())
  .option('--json', 'print the API answer as JSON (one line per refresh)', false)
  .option('--watch', 'refresh every second until Ctrl-C', false)
  .action(async (planId: string, opts) => {
    const { statusCommand } = await import('./commands/status-command.js');
    await statusCommand(planId, {
      api: opts.api,
      json: opts.json,
      watch: opts.watch,
      apiTls: apiTlsFiles(opts),
    });
  });

apiTlsOptions(program.command('verify'))
  .description(
    'compare the target with the source, shard by shard on the workers; prints a summary, exit 1 on any difference',
  )
  .argument('<plan>', 'a plan id, or a plan file (its newest plan of that name)')
  .addOption(apiOption())
  .addOption(
    new Option('--level <level>', 'count (keys per db), sample (random keys), full (every key)')
      .choices(['count', 'sample', 'full'])
      .default('full'),
  )
  .option('--sample <n>', 'random keys per shard for --level sample (default 1000)', positiveInteger)
  .option('--rounds <n>', 're-check rounds for keys that differ (default 3)', positiveInteger)
  .option('--round-delay <ms>', 'pause before each re-check round (default 2000)', positiveInteger)
  .option('--ttl-tolerance <ms>', 'accepted TTL difference (default 5000)', positiveInteger)
  .option('--max-differences <n>', 'differences listed in the report (default 100)', positiveInteger)
  .option(
    '--timeout <ms>',
    'how long the coordinator waits for the shards (default 3600000)',
    positiveInteger,
  )
  .option('--out <file>', 'also write the JSON report to this file')
  .option('--json', 'print the JSON report instead of the summary', false)
  .action(async (plan: string, opts) => {
    const { verifyCommand } = await import('./commands/verify-command.js');
    process.exitCode = await verifyCommand(plan, {
      api: opts.api,
      apiTls: apiTlsFiles(opts),
      json: opts.json,
      out: opts.out,
      level: opts.level,
      sampleSize: opts.sample,
      rounds: opts.rounds,
      roundDelayMs: opts.roundDelay,
      ttlToleranceMs: opts.ttlTolerance,
      maxDifferences: opts.maxDifferences,
      timeoutMs: opts.timeout,
    });
  });

apiTlsOptions(program.command('cutover'))
  .description(
    'stop writes (--pause-source, or your confirmation), wait for lag 0, verify in full, stop every shard and ' +
      'mark the plan cut-over; exit 1 if any step fails (the sync then keeps running)',
  )
  .argument('<planId>')
  .addOption(apiOption())
  .option(
    '--pause-source',
    'CLIENT PAUSE WRITE on the source masters during the cutover (lifted at its end)',
    false,
  )
  .option('--writes-stopped', 'writes to the source are already stopped: do not ask', false)
  .option('--confirm', 'confirm that writes stopped, for a cutover that waits for it, and exit', false)
  .option('--out <file>', 'also write the JSON cutover report to this file')
  .option('--json', 'print the JSON report instead of the summary', false)
  .action(async (planId: string, opts) => {
    const { cutoverCommand } = await import('./commands/cutover-command.js');
    process.exitCode = await cutoverCommand(planId, {
      api: opts.api,
      apiTls: apiTlsFiles(opts),
      json: opts.json,
      out: opts.out,
      pauseSource: opts.pauseSource,
      writesStopped: opts.writesStopped,
      confirm: opts.confirm,
    });
  });

apiTlsOptions(program.command('discover'))
  .description(
    'preflight a plan without syncing: per shard (source and target) the announced and reachable address, how it ' +
      'was mapped, connect time, AUTH, versions, PSYNC/REPLCONF permission; exit 1 when any shard would fail',
  )
  .argument('<plan.json>')
  .addOption(
    new Option(
      '--api <url>',
      'run the preflight on this coordinator (POST /v1/discover); default: in this process',
    ).env(ENV.api),
  )
  .option('--local', 'run in this process even when --api or SHARDBRIDGE_API is set', false)
  .option('--json', 'print the report as JSON', false)
  .option(
    '--connect-timeout <ms>',
    'bound on each connect and reply (local preflight)',
    positiveInteger,
    5000,
  )
  .action(async (plan: string, opts) => {
    const { discoverCommand } = await import('./commands/discover-command.js');
    process.exitCode = await discoverCommand(plan, {
      api: opts.api,
      local: opts.local,
      json: opts.json,
      connectTimeoutMs: opts.connectTimeout,
      apiTls: apiTlsFiles(opts),
    });
  });

const rdb = program.command('rdb').description('RDB file tools');
rdb
  .command('inspect')
  .description('print an RDB file as canonical JSON Lines (one key per line; functions first)')
  .argument('<file.rdb>')
  .action(async (file: string) => {
    const { rdbInspectCommand } = await import('./commands/rdb-inspect-command.js');
    await rdbInspectCommand(file);
  });

program
  .command('import')
  .description(
    'RESTORE every key of an RDB file into a target (streamed; expired keys skipped; functions loaded), then exit',
  )
  .argument('<file.rdb>', 'read on this host')
  .requiredOption('--target <host:port>', 'the target (any node of a cluster target)')
  .addOption(
    new Option('--target-type <type>', 'standalone or cluster')
      .choices(['standalone', 'cluster'])
      .default('standalone'),
  )
  .option('--username <user>', "the target's ACL user")
  .addOption(
    new Option('--password <secret>', 'literal, env:NAME or file:/path').env('SHARDBRIDGE_TARGET_PASSWORD'),
  )
  .option('--tls', 'connect with TLS (system CAs)', false)
  .option('--tls-ca <file>', 'CA bundle (PEM) to verify the target; implies --tls')
  .option('--tls-cert <file>', 'client certificate (PEM); implies --tls')
  .option('--tls-key <file>', 'client private key (PEM); implies --tls')
  .option('--tls-servername <name>', 'SNI and certificate name to verify; implies --tls')
  .option('--tls-insecure', 'do not verify the certificate; implies --tls', false)
  .option('--progress-interval <ms>', 'print a progress line this often', positiveInteger, 2000)
  .addOption(
    new Option(
      '--rewrite <when>',
      'rebuild keys with commands instead of RESTORE: auto (only for a target too old for the file), always, never',
    )
      .choices(['auto', 'always', 'never'])
      .default('auto'),
  )
  .action(async (file: string, opts) => {
    const { importCommand } = await import('./commands/import-command.js');
    await importCommand(file, {
      rewrite: opts.rewrite,
      target: opts.target,
      targetType: opts.targetType,
      username: opts.username,
      password: opts.password,
      tls: opts.tls,
      tlsCa: opts.tlsCa,
      tlsCert: opts.tlsCert,
      tlsKey: opts.tlsKey,
      tlsServername: opts.tlsServername,
      tlsInsecure: opts.tlsInsecure,
      progressIntervalMs: opts.progressInterval,
    });
  });

program
  .command('demo')
  .description(
    'self-contained demo: embedded queue, coordinator and 2 workers; a 3-shard source cluster behind simulated NAT; ' +
      'a target; plan over HTTP, live writes, key-by-key check',
  )
  .option('--keys <n>', 'keys to load into the demo source', positiveInteger, 30000)
  .option('--write-seconds <n>', 'seconds of live writes during the sync', positiveInteger, 5)
  .action(async (opts) => {
    const { demoCommand } = await import('./commands/demo-command.js');
    await demoCommand({ keys: opts.keys, writeSeconds: opts.writeSeconds });
  });

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode === 0 ? 0 : EXIT_USAGE;
  } else {
    process.exitCode = reportError(error instanceof CliError ? error : error);
  }
}
