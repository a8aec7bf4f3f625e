import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startCluster,
  startRedis,
  startTlsRedis,
  type RedisCluster,
  type RedisServer,
} from '@shardbridge/testkit';
import { importRdbFile, RdbImportError } from '@shardbridge/worker';
import { canonicalLines, keyspaceDbs } from './support/canonical-contents.js';
import { startCli } from './support/cli-process.js';
import { scratchDir } from './support/sync-harness.js';

/**
 * Acceptance: every file of the shared RDB corpus imported into a standalone and a 3-master cluster target holds
 * exactly what `expected/<name>.jsonl` says a real server loaded from it — or, where this target's server cannot
 * RESTORE the file's payloads, the import fails with one clear error.
 */

const corpusDir = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..', 'shared', 'rdb-corpus');
const corpusPresent = existsSync(join(corpusDir, 'manifest.json'));
if (!corpusPresent) console.warn(`rdb import acceptance skipped: no corpus at ${corpusDir}`);

interface ManifestEntry {
  file: string;
  rdbVersion: number;
  expected: string;
  mustReject?: string;
}

const manifest: ManifestEntry[] = corpusPresent
  ? JSON.parse(readFileSync(join(corpusDir, 'manifest.json'), 'utf8'))
  : [];
const nameOf = (entry: ManifestEntry): string => entry.file.replace(/^files\//, '').replace(/\.rdb$/, '');
const pathOf = (entry: ManifestEntry): string => join(corpusDir, entry.file);
const expectedLines = (entry: ManifestEntry): string[] =>
  readFileSync(join(corpusDir, entry.expected), 'utf8').split('\n').filter(Boolean);
const keyRecords = (entry: ManifestEntry) =>
  expectedLines(entry)
    .map((line) => JSON.parse(line) as { db?: number; functions?: unknown })
    .filter((record) => record.functions === undefined);

/**
 * Files Redis 7.0.15 (Debian's, the CI target) cannot RESTORE: their payloads carry an RDB version above 10, and a
 * server refuses payloads newer than its own format ("DUMP payload version or checksum are wrong"). Files of those
 * versions without any key to RESTORE (only functions, or only expired keys) import fine and are not listed.
 * A decode-and-rewrite import mode would lift this; until then the import must fail clearly.
 */
const REFUSED_BY_REDIS_7_0: Record<string, string> = {
  'hdt3213-rdb--expiration': 'RDB 11 (Redis 7.2)',
  'hdt3213-rdb--hash_as_listpack_with_hfe': 'RDB 12 (Redis 7.4): hash with field TTLs',
  'hdt3213-rdb--hash_with_hfe': 'RDB 12 (Redis 7.4): hash with field TTLs',
  'hdt3213-rdb--set_listpack': 'RDB 11 (Redis 7.2): listpack-encoded set',
  'hdt3213-rdb--stream_listoacks_3': 'RDB 12 (Redis 7.4): stream',
  'hdt3213-rdb--tree': 'RDB 12 (Redis 7.4)',
  'redis-7.2.6-types': 'RDB 11 (Redis 7.2)',
  'redis-7.4.1-types': 'RDB 12 (Redis 7.4)',
  'redis-8.0-m01-types': 'RDB 12 (Redis 8.0 milestone)',
  'valkey-8.0.1-types': 'RDB 11 (Valkey 8.0)',
};

/** The newest RDB version a server loads, from INFO server (Valkey also reports redis_version 7.2.x). */
function rdbVersionOfServer(info: Record<string, string>): number {
  if (info.valkey_version) return 11;
  const [major, minor] = info.redis_version.split('.').map(Number);
  if (major >= 8 || (major === 7 && minor >= 4)) return 12;
  if (major === 7 && minor >= 2) return 11;
  if (major === 7) return 10;
  return 9;
}

/**
 * README rule: firstId / maxDeletedId / entriesAdded are derived on load for RDB < 10, so not compared. A key
 * rebuilt with commands on a target without HPEXPIREAT (Redis < 7.4) keeps its hash fields without their TTLs
 * (documented and counted), so field TTLs are not compared then.
 */
function normalise(line: string, rdbVersion: number, fieldTtls = true): unknown {
  const record = JSON.parse(line);
  if (record.type === 'hash' && !fieldTtls) {
    record.value = record.value.map(([field, value]: [unknown, unknown]) => [field, value, null]);
  }
  if (record.type === 'stream' && rdbVersion < 10) {
    delete record.value.firstId;
    delete record.value.maxDeletedId;
    delete record.value.entriesAdded;
  }
  return record;
}

function expectSameLines(got: string[], entry: ManifestEntry, fieldTtls = true): void {
  const want = expectedLines(entry);
  const mismatches: string[] = [];
  for (let i = 0; i < Math.max(got.length, want.length); i++) {
    if (got[i] === want[i]) continue;
    const a = got[i] === undefined ? undefined : normalise(got[i], entry.rdbVersion, fieldTtls);
    const b = want[i] === undefined ? undefined : normalise(want[i], entry.rdbVersion, fieldTtls);
    if (JSON.stringify(a) === JSON.stringify(b)) continue;
    try {
      expect(a).toEqual(b);
    } catch {
      if (mismatches.length < 3)
        mismatches.push(`line ${i}:\n  got  ${got[i]?.slice(0, 400)}\n  want ${want[i]?.slice(0, 400)}`);
    }
  }
  expect(mismatches, nameOf(entry)).toEqual([]);
  expect(got.length, nameOf(entry)).toBe(want.length);
}

describe.skipIf(!corpusPresent)(
  'rdb import: every corpus file into a standalone and a cluster target',
  () => {
    let standalone: RedisServer;
    let cluster: RedisCluster;
    let standaloneClient: Redis;
    let masterClients: Redis[];
    let targetRdbVersion: number;

    beforeAll(async () => {
      [standalone, cluster] = await Promise.all([
        startRedis({ role: 'target' }),
        startCluster({ masters: 3, role: 'target' }),
      ]);
      standaloneClient = standalone.client();
      masterClients = (await cluster.masters()).map((master) => master.client());
      targetRdbVersion = rdbVersionOfServer(await standalone.info('server'));
    });
    afterAll(async () => {
      await Promise.all([standalone?.stop(), cluster?.stop()]);
    });

    const candidates = manifest.filter((entry) => !entry.mustReject);
    const refusedByVersion = (entry: ManifestEntry) =>
      entry.rdbVersion > targetRdbVersion && keyRecords(entry).length > 0;

    it('lists exactly the files Redis 7.0 refuses (when the target is 7.0)', () => {
      if (targetRdbVersion !== 10) return;
      const computed = candidates.filter(refusedByVersion).map(nameOf).sort();
      expect(computed).toEqual(Object.keys(REFUSED_BY_REDIS_7_0).sort());
    });

    for (const type of ['standalone', 'cluster'] as const) {
      for (const entry of candidates) {
        it(`${type}: ${nameOf(entry)}`, async () => {
          const clients = type === 'standalone' ? [standaloneClient] : masterClients;
          await Promise.all(clients.map((client) => client.call('FLUSHALL')));
          await Promise.all(clients.map((client) => client.call('FUNCTION', 'FLUSH')));
          const seed = type === 'standalone' ? standalone : cluster.nodes[0];
          const target = { type, seeds: [{ host: seed.host, port: seed.port }] };
          let outcome = await importRdbFile({
            path: pathOf(entry),
            target,
            // A file newer than the target: first without the rewrite, to see the refusal named.
            ...(refusedByVersion(entry) ? { rewrite: 'never' as const } : {}),
          }).catch((error: unknown) => error);

          if (refusedByVersion(entry)) {
            expect(outcome, String(outcome)).toBeInstanceOf(RdbImportError);
            const error = outcome as RdbImportError;
            expect(error.code).toBe('RDB_PAYLOAD_REFUSED');
            expect(error.message).toMatch(/refused RESTORE of key (".*"|0x[0-9a-f]+)/);
            expect(error.message).toContain(`RDB version ${entry.rdbVersion}`);
            expect(error.message).toMatch(/import into a target running/);
            // Then as an operator would run it (rewrite "auto"): every key rebuilt with commands.
            await Promise.all(clients.map((client) => client.call('FLUSHALL')));
            await Promise.all(clients.map((client) => client.call('FUNCTION', 'FLUSH')));
            outcome = await importRdbFile({ path: pathOf(entry), target }).catch((error: unknown) => error);
            if (!(outcome instanceof Error)) {
              expect((outcome as { keysRewritten: number }).keysRewritten).toBeGreaterThan(0);
            }
          }
          if (type === 'cluster' && keyRecords(entry).some((record) => record.db !== 0)) {
            expect(outcome, String(outcome)).toBeInstanceOf(RdbImportError);
            expect((outcome as RdbImportError).code).toBe('RDB_DB_NOT_IN_CLUSTER');
            expect((outcome as RdbImportError).message).toMatch(/has keys in db \d+ .* only has db 0/);
            return;
          }
          if (outcome instanceof Error) throw outcome;
          const lines =
            type === 'standalone'
              ? await canonicalLines(
                  [{ client: standaloneClient, dbs: await keyspaceDbs(standaloneClient) }],
                  {
                    functionsFrom: standaloneClient,
                  },
                )
              : await canonicalLines(
                  masterClients.map((client) => ({ client, dbs: [0] })),
                  { functionsFrom: masterClients[0] },
                );
          expectSameLines(lines, entry, targetRdbVersion >= 12 || !refusedByVersion(entry));
          if (type === 'cluster') {
            // FUNCTION LOAD is broadcast: every master holds the same libraries.
            const first = await masterClients[0].call('FUNCTION', 'LIST', 'WITHCODE');
            for (const client of masterClients.slice(1)) {
              expect(await client.call('FUNCTION', 'LIST', 'WITHCODE')).toEqual(first);
            }
          }
        });
      }
    }
  },
);

describe.skipIf(!corpusPresent)('shardbridge import / run with an rdb source (CLI)', () => {
  let target: RedisServer;
  let scratch: Awaited<ReturnType<typeof scratchDir>>;
  const big = join(corpusDir, 'files', 'redis-7.0.15-big.rdb');

  beforeAll(async () => {
    [target, scratch] = await Promise.all([startRedis({ role: 'target' }), scratchDir()]);
  });
  afterAll(async () => {
    await Promise.all([target?.stop(), scratch?.remove()]);
  });

  it('imports a file, printing progress and a summary', async () => {
    const client = target.client();
    await client.flushall();
    const cli = startCli(['import', big, '--target', `${target.host}:${target.port}`]);
    expect(await cli.exited, cli.stderr()).toBe(0);
    expect(cli.stdout()).toMatch(
      /imported \(RDB 10\)\s+4\.8 MB\/4\.8 MB \(100%\)\s+keys 200000\s+expired skipped 0/,
    );
    expect(await client.dbsize()).toBe(200000);
  });

  it('a truncated file is one error line with the byte offset, exit 1', async () => {
    const cut = join(scratch.path, 'cut.rdb');
    await writeFile(cut, readFileSync(big).subarray(0, 1_000_000));
    const cli = startCli(['import', cut, '--target', `${target.host}:${target.port}`]);
    expect(await cli.exited).toBe(1);
    const lines = cli.stderr().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^error: RDB file .*cut\.rdb: RDB truncated: .*at byte offset 1000000/);
  });

  it('a corrupt file names the byte offset', async () => {
    const corrupt = join(corpusDir, 'files', 'redis-tests--corrupt_ziplist.rdb');
    const cli = startCli(['import', corrupt, '--target', `${target.host}:${target.port}`]);
    expect(await cli.exited).toBe(1);
    expect(cli.stderr().trim()).toMatch(
      /^error: RDB file .*corrupt_ziplist\.rdb: .*byte offset \d+.*\[RDB_CORRUPT\]$/,
    );
  });

  it('a target out of memory, or a missing file, is one error line and exit 1', async () => {
    const small = await startRedis({
      role: 'target',
      config: { maxmemory: '3mb', 'maxmemory-policy': 'noeviction' },
    });
    try {
      const full = startCli(['import', big, '--target', `${small.host}:${small.port}`]);
      expect(await full.exited).toBe(1);
      expect(full.stderr().trim().split('\n')).toHaveLength(1);
      expect(full.stderr()).toMatch(/^error: target .* is out of memory .*\[TARGET_OOM\]$/m);
    } finally {
      await small.stop();
    }
    const missing = startCli([
      'import',
      join(scratch.path, 'nope.rdb'),
      '--target',
      `${target.host}:${target.port}`,
    ]);
    expect(await missing.exited).toBe(1);
    expect(missing.stderr()).toMatch(
      /^error: cannot read the RDB file .*nope\.rdb: ENOENT .*\[RDB_FILE_UNREADABLE\]\n$/,
    );
  });

  it('skips and counts expired keys', async () => {
    const file = join(corpusDir, 'files', 'redis-rdb-tools--keys_with_expiry.rdb');
    const cli = startCli(['import', file, '--target', `${target.host}:${target.port}`]);
    expect(await cli.exited, cli.stderr()).toBe(0);
    expect(cli.stdout()).toMatch(/keys 0\s+expired skipped 1/);
  });

  it('--tls-ca reaches a TLS-only target; without the CA it is one error line', async () => {
    const tls = await startTlsRedis({ role: 'target' });
    try {
      const ca = join(scratch.path, 'ca.pem');
      await writeFile(ca, tls.ca);
      const file = join(corpusDir, 'files', 'redis-rdb-tools--integer_keys.rdb');
      const address = `127.0.0.1:${tls.tlsPort}`;
      const ok = startCli(['import', file, '--target', address, '--tls-ca', ca]);
      expect(await ok.exited, ok.stderr()).toBe(0);
      expect(await tls.server.client().dbsize()).toBe(6);
      const refused = startCli(['import', file, '--target', address, '--tls']);
      expect(await refused.exited).toBe(1);
      expect(refused.stderr().trim().split('\n')).toHaveLength(1);
      expect(refused.stderr()).toMatch(/^error: .*127\.0\.0\.1:\d+.*(SELF_SIGNED|certificate)/i);
    } finally {
      await tls.stop();
    }
  });

  for (const direct of [false, true]) {
    it(`run${direct ? ' --direct' : ''} <plan> with source {type: "rdb"} imports the file and exits 0`, async () => {
      const client = target.client();
      await client.flushall();
      const plan = join(scratch.path, `rdb-${direct}.plan.json`);
      await writeFile(
        plan,
        JSON.stringify({
          name: 'rdb-import',
          source: { type: 'rdb', path: join(corpusDir, 'files', 'redis-7.0.15-types.rdb') },
          target: { type: 'standalone', seeds: [`${target.host}:${target.port}`] },
        }),
      );
      const cli = startCli(['run', plan, ...(direct ? ['--direct'] : []), '--data-dir', scratch.path]);
      expect(await cli.exited, cli.stderr()).toBe(0);
      expect(cli.stdout()).toMatch(/imported \(RDB 10\)/);
      const lines = await canonicalLines([{ client, dbs: await keyspaceDbs(client) }], {
        functionsFrom: client,
      });
      expectSameLines(lines, {
        file: 'files/redis-7.0.15-types.rdb',
        rdbVersion: 10,
        expected: 'expected/redis-7.0.15-types.jsonl',
      });
    });
  }
});
