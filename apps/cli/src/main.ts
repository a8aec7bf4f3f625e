import { Command, CommanderError, Option } from 'commander';
import { addApiCommands } from './api-commands.js';
import { CliError, EXIT_USAGE, reportError } from './cli-error.js';
import { ENV, positiveInteger, redisUrl } from './env-options.js';
import { addQueueTlsOptions, queueConnectionFromFlags } from './queue-options.js';

// Each command's module is imported when that command runs: a worker or a --direct sync does not load the
// coordinator's HTTP stack, and `--help` stays quick.
const program = new Command('shardbridge')
  .description('Move live Redis data between clouds, shard by shard — also when the source sits behind NAT.')
  .version('0.1.0')
  .showHelpAfterError('(`shardbridge <command> --help` lists its options)')
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
  .option('--max-reconnects <n>', 'reconnect attempts in a row before the shard fails', positiveInteger, 10)
  .option(
    '--shutdown-timeout <ms>',
    'after SIGINT/SIGTERM, exit within this long, saving what can be saved (a second signal exits at once)',
    positiveInteger,
    20_000,
  );
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
    shutdownTimeoutMs: opts.shutdownTimeout,
  });
});

const queueOption = () =>
  new Option('--queue <redis-url>', "the queue's Redis (appendonly yes, noeviction)")
    .env(ENV.queue)
    .argParser(redisUrl);
const logLevelOption = () => new Option('--log-level <level>', 'pino log level').default('info');

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
  .option(
    '--shutdown-timeout <ms>',
    'after SIGINT/SIGTERM, exit within this long, saving what can be saved (a second signal exits at once)',
    positiveInteger,
    20_000,
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
    shutdownTimeoutMs: opts.shutdownTimeout,
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
  .option(
    '--shutdown-timeout <ms>',
    'after SIGINT/SIGTERM, exit within this long, saving what can be saved (a second signal exits at once)',
    positiveInteger,
    20_000,
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
    shutdownTimeoutMs: opts.shutdownTimeout,
  });
});

addApiCommands(program);

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
