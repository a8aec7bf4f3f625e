import { Option, type Command } from 'commander';
import { queueConnectionOf, type QueueConnection } from '@shardbridge/worker/queue-connection';

/** Environment variables that stand in for the queue TLS flags (a flag on the command line wins). */
export const QUEUE_TLS_ENV = {
  ca: 'SHARDBRIDGE_QUEUE_TLS_CA',
  cert: 'SHARDBRIDGE_QUEUE_TLS_CERT',
  key: 'SHARDBRIDGE_QUEUE_TLS_KEY',
  servername: 'SHARDBRIDGE_QUEUE_TLS_SERVERNAME',
} as const;

/** Adds `--queue-tls-ca/-cert/-key/-servername` to a command that takes `--queue`. */
export function addQueueTlsOptions(command: Command): Command {
  return command
    .addOption(
      new Option(
        '--queue-tls-ca <file>',
        "CA (PEM) that signed the queue Redis's certificate; implies TLS",
      ).env(QUEUE_TLS_ENV.ca),
    )
    .addOption(
      new Option('--queue-tls-cert <file>', 'client certificate (PEM) for the queue Redis; implies TLS').env(
        QUEUE_TLS_ENV.cert,
      ),
    )
    .addOption(
      new Option(
        '--queue-tls-key <file|env:NAME|file:/path>',
        "the client certificate's private key; implies TLS",
      ).env(QUEUE_TLS_ENV.key),
    )
    .addOption(
      new Option(
        '--queue-tls-servername <name>',
        'SNI and certificate name of the queue Redis; implies TLS',
      ).env(QUEUE_TLS_ENV.servername),
    );
}

interface QueueFlags {
  queue?: string;
  queueTlsCa?: string;
  queueTlsCert?: string;
  queueTlsKey?: string;
  queueTlsServername?: string;
}

/** The queue connection the flags describe, or undefined without `--queue`. */
export function queueConnectionFromFlags(opts: QueueFlags): QueueConnection | undefined {
  if (opts.queue === undefined) return undefined;
  return queueConnectionOf(opts.queue, {
    ca: opts.queueTlsCa,
    cert: opts.queueTlsCert,
    key: opts.queueTlsKey,
    servername: opts.queueTlsServername,
  });
}
