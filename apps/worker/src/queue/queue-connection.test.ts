import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTlsRedis, type TlsRedis } from '@shardbridge/testkit';
import {
  bullConnection,
  connectQueueRedis,
  describeQueue,
  queueConnectionOf,
  QueueTlsFileError,
} from './queue-connection.js';

const PASSWORD = 'queue-Secret-31f9';

describe('queue connection over TLS', () => {
  let queue: TlsRedis;

  beforeAll(async () => {
    queue = await startTlsRedis({ requireClientCert: true, username: 'sb-queue', password: PASSWORD });
  });
  afterAll(async () => {
    await queue?.stop();
  });

  const url = () => `rediss://sb-queue:${PASSWORD}@127.0.0.1:${queue.tlsPort}`;

  it('reaches a queue Redis that requires a client certificate, with ioredis and with BullMQ', async () => {
    const connection = queueConnectionOf(url(), {
      ca: queue.files.ca,
      cert: queue.files.clientCert,
      key: queue.files.clientKey,
    });
    const client = connectQueueRedis(connection, { maxRetriesPerRequest: 1 });
    try {
      expect(await client.ping()).toBe('PONG');
      expect(await client.call('ACL', 'WHOAMI')).toBe('sb-queue');
    } finally {
      client.disconnect();
    }
    const bull = new Queue('queue-connection-test', { connection: bullConnection(connection) });
    try {
      await bull.add('job', { n: 1 });
      expect(await bull.getJobCounts('waiting')).toEqual({ waiting: 1 });
    } finally {
      await bull.close();
    }
  });

  it('takes the private key as a secret reference', async () => {
    process.env.SB_QUEUE_TEST_KEY = queue.clientKey.toString();
    try {
      const client = connectQueueRedis(
        queueConnectionOf(url(), {
          ca: queue.files.ca,
          cert: queue.files.clientCert,
          key: 'env:SB_QUEUE_TEST_KEY',
        }),
        { maxRetriesPerRequest: 1 },
      );
      try {
        expect(await client.ping()).toBe('PONG');
      } finally {
        client.disconnect();
      }
    } finally {
      delete process.env.SB_QUEUE_TEST_KEY;
    }
  });

  it('without the client certificate the queue Redis refuses the connection', async () => {
    const client = connectQueueRedis(queueConnectionOf(url(), { ca: queue.files.ca }), {
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      lazyConnect: true,
    });
    client.on('error', () => undefined);
    try {
      await expect(client.connect().then(() => client.ping())).rejects.toThrow();
    } finally {
      client.disconnect();
    }
  });

  it('names an unreadable TLS file by path and flag meaning, never its content', () => {
    expect(() => queueConnectionOf(url(), { ca: '/nonexistent/ca.pem' })).toThrow(QueueTlsFileError);
    expect(() => queueConnectionOf(url(), { ca: '/nonexistent/ca.pem' })).toThrow(
      'queue TLS CA: cannot read /nonexistent/ca.pem (ENOENT)',
    );
  });
});

describe('describeQueue', () => {
  it('shows where the queue is without its password', () => {
    expect(describeQueue('redis://user:s3cret@queue.internal:6380/2')).toBe(
      'redis://user:***@queue.internal:6380/2',
    );
    expect(describeQueue('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
    const options = queueConnectionOf('rediss://:s3cret@10.0.0.5:6380', { servername: 'queue.internal' });
    expect(describeQueue(options)).toBe('rediss://:***@10.0.0.5:6380');
    expect(JSON.stringify(describeQueue(options))).not.toContain('s3cret');
  });

  it('keeps a URL without TLS files as the URL itself', () => {
    expect(queueConnectionOf('rediss://127.0.0.1:6380')).toBe('rediss://127.0.0.1:6380');
  });
});
