import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { CliError, EXIT_USAGE, reportError } from './cli-error.js';
import { runCommand } from './commands/run-command.js';
import { rdbInspectCommand } from './commands/rdb-inspect-command.js';
import { demoCommand } from './commands/demo-command.js';

function positiveInteger(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0)
    throw new InvalidArgumentError('expected a non-negative integer');
  return value;
}

const program = new Command('shardbridge')
  .description('Move live Redis data between clouds, shard by shard — also when the source sits behind NAT.')
  .version('0.1.0')
  .showHelpAfterError()
  .exitOverride();

program
  .command('run')
  .description(
    'sync a standalone source into a standalone or cluster target: full sync, then live until SIGINT/SIGTERM',
  )
  .argument('<plan.json>', 'the sync plan (see README: "Plan")')
  .option('--checkpoint-dir <dir>', 'where resume points are kept', '.shardbridge/checkpoints')
  .option('--log-level <level>', 'pino log level on stderr (trace|debug|info|warn|error)', 'info')
  .option('--progress-interval <ms>', 'print a progress line this often', positiveInteger, 2000)
  .option('--max-reconnects <n>', 'reconnect attempts in a row before the shard fails', positiveInteger, 10)
  .action(async (plan: string, opts) => {
    await runCommand(plan, {
      checkpointDir: opts.checkpointDir,
      logLevel: opts.logLevel,
      progressIntervalMs: opts.progressInterval,
      maxReconnects: opts.maxReconnects,
    });
  });

const rdb = program.command('rdb').description('RDB file tools');
rdb
  .command('inspect')
  .description('print an RDB file as canonical JSON Lines (one key per line; functions first)')
  .argument('<file.rdb>')
  .action(async (file: string) => {
    await rdbInspectCommand(file);
  });

program
  .command('demo')
  .description('self-contained demo: starts a source and a target redis-server, syncs, writes live, verifies')
  .option('--keys <n>', 'keys to load into the demo source', positiveInteger, 20000)
  .action(async (opts) => {
    await demoCommand({ keys: opts.keys });
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
