import { Option, type Command } from 'commander';
import { apiUrl, ENV, positiveInteger } from './env-options.js';

// The commands that talk to a coordinator over its API. Each takes --api, SHARDBRIDGE_API_TOKEN and the --api-ca,
// --api-cert, --api-key files the same way, and loads its module only when it runs.

const apiOption = () =>
  new Option('--api <url>', "the coordinator's base URL, http(s)://host:port")
    .env(ENV.api)
    .default('http://127.0.0.1:8080')
    .argParser(apiUrl);

/** For an HTTPS coordinator: the CA to verify it, and a client certificate when it requires mutual TLS. */
function apiCommand(program: Command, name: string): Command {
  return program
    .command(name)
    .addOption(
      new Option('--api-ca <file>', "CA (PEM) that signed the coordinator's certificate").env(ENV.apiCa),
    )
    .addOption(new Option('--api-cert <file>', 'client certificate (PEM) for mutual TLS').env(ENV.apiCert))
    .addOption(new Option('--api-key <file>', "the client certificate's private key (PEM)").env(ENV.apiKey));
}

const apiTlsFiles = (opts: { apiCa?: string; apiCert?: string; apiKey?: string }) => ({
  apiCa: opts.apiCa,
  apiCert: opts.apiCert,
  apiKey: opts.apiKey,
});

/** `--api` with the TLS files, as every API command's options take them. */
const apiOptions = (opts: { api: string; apiCa?: string; apiCert?: string; apiKey?: string }) => ({
  api: opts.api,
  apiTls: apiTlsFiles(opts),
});

/** Adds submit, plans, status, stop, resume, retry, caps, delete, verify, cutover and discover to `program`. */
export function addApiCommands(program: Command): void {
  apiCommand(program, 'submit')
    .description('submit a plan to the coordinator; prints the plan id and its shards')
    .argument('<plan.json>')
    .addOption(apiOption())
    .option('--json', 'print the API answer as JSON', false)
    .option(
      '--replace',
      'a stored plan of the same name is deleted (jobs, checkpoints) and planned again: a new full sync',
      false,
    )
    .action(async (plan: string, opts) => {
      const { submitCommand } = await import('./commands/submit-command.js');
      await submitCommand(plan, { ...apiOptions(opts), json: opts.json, replace: opts.replace });
    });

  apiCommand(program, 'plans')
    .description("list the coordinator's plans: id, name, state, shard count, phases")
    .addOption(apiOption())
    .option('--json', 'print the API answer as JSON', false)
    .action(async (opts) => {
      const { plansCommand } = await import('./commands/plans-command.js');
      await plansCommand({ ...apiOptions(opts), json: opts.json });
    });

  apiCommand(program, 'status')
    .description('per-shard phase, progress, lag and ops/s of a plan')
    .argument('<planId>')
    .addOption(apiOption())
    .option('--json', 'print the API answer as JSON (one line per refresh)', false)
    .option(
      '--watch',
      'refresh every second; exit 0 once the plan is completed, cut over, or stopped with no shard running',
      false,
    )
    .action(async (planId: string, opts) => {
      const { statusCommand } = await import('./commands/status-command.js');
      await statusCommand(planId, { ...apiOptions(opts), json: opts.json, watch: opts.watch });
    });

  apiCommand(program, 'stop')
    .description('stop every shard of a plan (each flushes the target and saves its checkpoint)')
    .argument('<planId>')
    .addOption(apiOption())
    .action(async (planId: string, opts) => {
      const { stopCommand } = await import('./commands/plan-control-commands.js');
      await stopCommand(planId, apiOptions(opts));
    });

  apiCommand(program, 'resume')
    .description('run a stopped plan again: stopped and failed shards continue from their checkpoints')
    .argument('<planId>')
    .addOption(apiOption())
    .action(async (planId: string, opts) => {
      const { resumeCommand } = await import('./commands/plan-control-commands.js');
      await resumeCommand(planId, apiOptions(opts));
    });

  apiCommand(program, 'retry')
    .description(
      'queue a failed or stopped shard again (id or index); no shard: every failed shard of the plan',
    )
    .argument('<planId>')
    .argument('[shard]')
    .addOption(apiOption())
    .action(async (planId: string, shard: string | undefined, opts) => {
      const { retryCommand } = await import('./commands/plan-control-commands.js');
      await retryCommand(planId, shard, apiOptions(opts));
    });

  apiCommand(program, 'caps')
    .description(
      "show a plan's rate caps, or change them on the running plan without a resync (a plan cap is divided " +
        "evenly among its shards; --shard sets one shard's own); flags left out keep their value",
    )
    .argument('<planId>')
    .addOption(apiOption())
    .option('--ops <n>', 'ops/s: keys restored + stream commands applied', positiveInteger)
    .option(
      '--bytes <n>',
      'bytes/s: replication-stream bytes read from the source, the RDB included',
      positiveInteger,
    )
    .option('--shard <shard>', "change this shard's own caps (id or index) instead of the plan's")
    .option('--clear', 'lift the caps of the plan (or of --shard) before applying --ops/--bytes', false)
    .option('--json', 'print the caps in force as JSON', false)
    .action(async (planId: string, opts) => {
      const { capsCommand } = await import('./commands/caps-command.js');
      await capsCommand(planId, {
        ...apiOptions(opts),
        ops: opts.ops,
        bytes: opts.bytes,
        shard: opts.shard,
        clear: opts.clear,
        json: opts.json,
      });
    });

  apiCommand(program, 'delete')
    .description(
      'delete a plan with its jobs and checkpoints (the target keeps its data); running shards are stopped first',
    )
    .argument('<planId>')
    .addOption(apiOption())
    .option('--wait <ms>', 'how long to wait for running shards to stop', positiveInteger, 60_000)
    .action(async (planId: string, opts) => {
      const { deleteCommand } = await import('./commands/delete-command.js');
      await deleteCommand(planId, { ...apiOptions(opts), waitMs: opts.wait });
    });

  apiCommand(program, 'verify')
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
    .option(
      '--result',
      'print the last verification of the plan (running or done) instead of starting one',
      false,
    )
    .option('--out <file>', 'also write the JSON report to this file')
    .option('--json', 'print the JSON report instead of the summary', false)
    .action(async (plan: string, opts) => {
      const { verifyCommand } = await import('./commands/verify-command.js');
      process.exitCode = await verifyCommand(plan, {
        ...apiOptions(opts),
        json: opts.json,
        out: opts.out,
        result: opts.result,
        level: opts.level,
        sampleSize: opts.sample,
        rounds: opts.rounds,
        roundDelayMs: opts.roundDelay,
        ttlToleranceMs: opts.ttlTolerance,
        maxDifferences: opts.maxDifferences,
        timeoutMs: opts.timeout,
      });
    });

  apiCommand(program, 'cutover')
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
    .option('--result', 'print the last cutover of the plan (running or done) instead of starting one', false)
    .option('--out <file>', 'also write the JSON cutover report to this file')
    .option('--json', 'print the JSON report instead of the summary', false)
    .action(async (planId: string, opts) => {
      const { cutoverCommand } = await import('./commands/cutover-command.js');
      process.exitCode = await cutoverCommand(planId, {
        ...apiOptions(opts),
        json: opts.json,
        out: opts.out,
        pauseSource: opts.pauseSource,
        writesStopped: opts.writesStopped,
        confirm: opts.confirm,
        result: opts.result,
      });
    });

  apiCommand(program, 'discover')
    .description(
      'preflight a plan without syncing: per shard (source and target) the announced and reachable address, how it ' +
        'was mapped, connect time, AUTH, versions, PSYNC/REPLCONF permission; exit 1 when any shard would fail',
    )
    .argument('<plan.json>')
    .addOption(
      new Option(
        '--api <url>',
        'run the preflight on this coordinator (http(s)://host:port); default: in this process',
      )
        .env(ENV.api)
        .argParser(apiUrl),
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
}
