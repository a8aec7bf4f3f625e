/**
 * Scenario 7 — across a WAN link (issue 13). The link is simulated by a latency proxy (../lib/latency-proxy.mjs,
 * a process of its own that holds every chunk RTT/2 each way, order kept, 64 MiB of buffer per direction); the
 * kernel has no netem. One standalone source holds `--wan-keys` generated keys (../lib/dataset.mjs). Its replica
 * output buffer is unlimited (`client-output-buffer-limit replica 0 0 0`), so a sync that falls behind is measured
 * rather than cut off by the source.
 *   link         what the proxy itself carries: one connection blasting bytes through it at 0 ms and at 80 ms
 *                round trip (3 blasts: the best wall rate, next to the same blast without a proxy, and the median
 *                MB per proxy CPU second, its ceiling on one core, which the goal judges: a shared machine moves
 *                the wall rate, not that), and the median PING round trip through it (the delay it adds). During each live stream the proxy's CPU
 *                (cores busy) and whether its buffer ever filled (fullPauses) are recorded too.
 * Then, after one unmeasured full sync (warm-up), for each round trip of `--wan-rtts`:
 *   full sync    seconds from the start until the target confirmed the source's offset (as scenario 1), for
 *                native `REPLICAOF` (a redis-server replica dialing the source through the proxy), and for
 *                ShardBridge with the worker beside the source (proxy between worker and target) and beside the
 *                target (proxy between source and worker; the RDB, the stream and its ACKs cross the link), and
 *                with no proxy at all (loopback, measured again at each round trip just before the placement
 *                whose goal it is the reference of).
 *                Every target is checked to hold the source's keys. Ratio: native seconds / ours.
 *   live stream  worker beside the source: `redis-benchmark -t set,incr,lpush -P 16 -c 16` on the source for
 *                `--wan-seconds`, at-least-once and with `target.exactlyOnce` (a session of its own, after its own
 *                full sync): replicated ops/s, lag p50/p99 and the catch-up after the load, bounded by
 *                `--wan-catch-up` (../lib/live-stream.mjs).
 * Goals (issue 13, judged at 80 ms): full sync native/ours >= 0.7 beside the source; beside the target within 1.3x
 * of loopback; live >= 150k ops/s with lag p99 < RTT + 50 ms; exactly-once >= 100k ops/s.
 * The ShardSyncs run in this process (as in scenarios 1 and 3); the proxies, servers and load run in their own.
 */
import { performance } from 'node:perf_hooks';
import { generateDataset } from '../lib/dataset.mjs';
import { startLatencyProxy } from '../lib/latency-proxy.mjs';
import { LIVE_LOAD_KEYS, measureLiveStream } from '../lib/live-stream.mjs';
import { nativeFullSync } from '../lib/native-sync.mjs';
import { blast, pingRttMs } from '../lib/proxy-throughput.mjs';
import { startServer, totalKeys } from '../lib/redis.mjs';
import { fmt, MB, printHeading, round } from '../lib/report.mjs';
import { startShardSync, waitCaughtUp } from '../lib/sync-session.mjs';

const SYNC_TIMEOUT_MS = 30 * 60_000;
const GOAL_RTT_MS = 80;
/** 1 Gbit/s: the proxy must carry more than the links the goals speak of */
const LINK_FLOOR_MBPS = 125;
const BLASTS = 3;
/** a side reached without a proxy */
const direct = (server) => server;

export async function scenarioWan(report, options) {
  printHeading(
    `Scenario 7: WAN link, round trips ${options.wanRtts.join(', ')} ms, ${fmt.count(options.wanKeys)} keys`,
  );
  const source = await startServer({ 'client-output-buffer-limit': ['replica', '0', '0', '0'] });
  await generateDataset(source.client(), { keys: options.wanKeys, seed: options.seed + 2 });
  const keys = await totalKeys(source);
  await measureLink(report, source, options);
  // Warm-up (JIT, page cache): the first full sync of a process is slower, and would flatter the loopback ratio.
  await oursFullSync(source, direct, direct);
  for (const rttMs of options.wanRtts) {
    await measureRoundTrip(report, source, { rttMs, keys }, options);
  }
  await source.release();
}

async function measureLink(report, source, options) {
  const bytes = (options.quick ? 128 : 512) * 1024 * 1024;
  const through = (rttMs) => (sink) => startLatencyProxy(sink, { rttMs });
  const noProxy = await bestBlast(bytes);
  const atZero = await bestBlast(bytes, through(0));
  const atGoal = await bestBlast(bytes, through(GOAL_RTT_MS));
  const proxy = await startLatencyProxy(source, { rttMs: GOAL_RTT_MS });
  const pingMs = await pingRttMs(proxy.host, proxy.port).finally(() => proxy.close());
  const capacity = Math.min(atZero.MBperProxyCpuSecond, atGoal.MBperProxyCpuSecond);
  const describe = (run) => `${run.MBps} MB/s (${run.MBperProxyCpuSecond} MB per proxy CPU second)`;
  report.row(
    'wanLink',
    {
      scenario: `7. wan: the latency proxy itself, ${fmt.mb(bytes)} through one connection`,
      ours:
        `0 ms: ${describe(atZero)}; ${GOAL_RTT_MS} ms: ${describe(atGoal)}; ` +
        `PING through ${GOAL_RTT_MS} ms: ${round(pingMs, 1)} ms`,
      reference: `no proxy: ${noProxy.MBps} MB/s`,
      ratio: `proxy/none ${fmt.ratio(Math.min(atZero.MBps, atGoal.MBps) / noProxy.MBps)}`,
      goal: `≥ ${LINK_FLOOR_MBPS} MB/s (1 Gbit/s) on one core: ${verdict(capacity >= LINK_FLOOR_MBPS)}`,
    },
    {
      bytes,
      noProxy,
      rttZero: atZero,
      rttGoal: { rttMs: GOAL_RTT_MS, ...atGoal },
      pingRttMs: round(pingMs, 2),
    },
  );
}

/**
 * BLASTS blasts: the fastest one's wall rate (on a shared machine the slower ones measure the neighbours) and the
 * median of the proxy's MB per CPU second (steady whatever the neighbours do; its ceiling on one core).
 */
async function bestBlast(bytes, startProxy) {
  const runs = [];
  for (let i = 0; i < BLASTS; i++) runs.push(await blast(bytes, startProxy));
  const best = runs.reduce((a, b) => (b.MBps > a.MBps ? b : a));
  const capacities = runs.map((run) => run.MBperProxyCpuSecond).sort((a, b) => a - b);
  return {
    ...best,
    MBperProxyCpuSecond: capacities[Math.floor(capacities.length / 2)],
    runsMBps: runs.map((run) => run.MBps),
    runsMBperProxyCpuSecond: runs.map((run) => run.MBperProxyCpuSecond),
  };
}

/** Full syncs and live streams at one round trip; one table row each. */
async function measureRoundTrip(report, source, { rttMs, keys }, options) {
  console.log(`bench: wan ${rttMs} ms round trip`);
  const sourceLink = await startLatencyProxy(source, { rttMs });
  const native = await nativeFullSync(source, { via: sourceLink });
  // Loopback right before its placement, so the ratio compares runs a shared machine treated alike.
  const { result: loopback } = await oursFullSync(source, direct, direct);
  const { result: besideTarget } = await oursFullSync(source, direct, () => sourceLink);
  await sourceLink.close();
  const farTarget = (target) => startLatencyProxy(target, { rttMs });
  const alo = await oursFullSync(source, farTarget, direct, { keep: true });
  const atLeastOnce = await liveStream(source, alo, options);
  const eo = await oursFullSync(source, farTarget, direct, { keep: true, exactlyOnce: true });
  const exactlyOnce = await liveStream(source, eo, options);
  const besideSource = alo.result;

  const atGoal = rttMs === GOAL_RTT_MS;
  const sourceRatio = native.seconds / besideSource.seconds;
  const targetRatio = native.seconds / besideTarget.seconds;
  const overLoopback = besideTarget.seconds / loopback.seconds;
  const keysMatch = [besideSource, besideTarget, eo.result].every((run) => run.keysMatch);
  report.row(
    `wan${rttMs}FullSync`,
    {
      scenario: `7. wan ${rttMs} ms: full sync, ${fmt.count(keys)} keys`,
      ours:
        `worker beside source ${fmt.seconds(besideSource.seconds)}, beside target ${fmt.seconds(besideTarget.seconds)}` +
        ` (loopback ${fmt.seconds(loopback.seconds)})${keysMatch ? '' : ' KEY COUNT DIFFERS'}`,
      reference: `native REPLICAOF ${fmt.seconds(native.seconds)}`,
      ratio: `native/ours ${fmt.ratio(sourceRatio)} beside source, ${fmt.ratio(targetRatio)} beside target; beside target/loopback ${fmt.ratio(overLoopback)}`,
      goal: atGoal
        ? `beside source ≥ 0.7: ${verdict(sourceRatio >= 0.7)}; beside target ≤ 1.3× loopback: ${verdict(overLoopback <= 1.3)}`
        : '—',
    },
    {
      rttMs,
      native,
      workerBesideSource: besideSource,
      workerBesideTarget: besideTarget,
      exactlyOnceWorkerBesideSource: eo.result,
      loopback,
      ratioNativeOverOurs: { besideSource: round(sourceRatio), besideTarget: round(targetRatio) },
      besideTargetOverLoopback: round(overLoopback),
    },
  );
  const p99Goal = rttMs + 50;
  const liveMet = atLeastOnce.replicatedOpsPerSecond >= 150_000 && atLeastOnce.lagP99Ms < p99Goal;
  const eoMet = exactlyOnce.replicatedOpsPerSecond >= 100_000;
  report.row(
    `wan${rttMs}Live`,
    {
      scenario: `7. wan ${rttMs} ms: live stream, ${options.wanSeconds} s of redis-benchmark -P 16, worker beside source`,
      ours: `at-least-once ${describeLive(atLeastOnce)}; exactly-once ${describeLive(exactlyOnce)}`,
      reference:
        `source took ${fmt.count(atLeastOnce.sourceOpsPerSecond)} / ${fmt.count(exactlyOnce.sourceOpsPerSecond)} ops/s` +
        ` (proxy ${atLeastOnce.proxy.coresBusy} / ${exactlyOnce.proxy.coresBusy} cores busy)`,
      ratio: `replicated/source ${fmt.ratio(ratioOf(atLeastOnce))} / ${fmt.ratio(ratioOf(exactlyOnce))}`,
      goal: atGoal
        ? `≥ 150k ops/s, p99 < ${p99Goal} ms: ${verdict(liveMet)}; exactly-once ≥ 100k ops/s: ${verdict(eoMet)}`
        : '—',
    },
    { rttMs, atLeastOnce, exactlyOnce },
  );
}

function verdict(met) {
  return met ? 'met' : 'MISSED';
}

function ratioOf(live) {
  return live.replicatedOpsPerSecond / Math.max(1, live.sourceOpsPerSecond);
}

function describeLive(live) {
  const bound = live.lagLowerBound ? '≥ ' : '';
  const tail = live.caughtUp
    ? `caught up in ${fmt.seconds(live.tailSeconds)}`
    : `NOT caught up after ${fmt.seconds(live.tailSeconds)}: ${fmt.mb(live.behindBytes)} behind` +
      (live.estimatedRestSeconds === null ? '' : ` (~${live.estimatedRestSeconds} s more)`);
  return `${fmt.count(live.replicatedOpsPerSecond)} ops/s, lag p50 ${bound}${live.lagP50Ms} / p99 ${bound}${live.lagP99Ms} ms, ${tail}`;
}

/**
 * A ShardBridge full sync from `source` into a fresh target, each side reached through what `linkTarget` /
 * `linkSource` return (a proxy, or the server itself). Returns its numbers as `result`; with `keep`, also the
 * running `session`, the target-side `proxy` and `release()` (the live stream continues from there and releases).
 */
async function oursFullSync(source, linkTarget, linkSource, { keep = false, exactlyOnce = false } = {}) {
  const target = await startServer();
  const targetLink = await linkTarget(target);
  const sourceLink = await linkSource(source);
  const sourceKeys = await totalKeys(source);
  const started = performance.now();
  const session = await startShardSync(sourceLink, targetLink, { exactlyOnce });
  await waitCaughtUp(session.sync, source, SYNC_TIMEOUT_MS);
  const seconds = (performance.now() - started) / 1000;
  const { rdbBytesDone: rdbBytes } = session.sync.progress;
  const targetKeys = await ownKeys(target);
  const result = {
    seconds: round(seconds),
    sourceKeys,
    targetKeys,
    keysMatch: targetKeys === sourceKeys,
    rdbBytes,
    MBps: round(rdbBytes / MB / seconds),
    exactlyOnce,
  };
  const release = async () => {
    await session.stop();
    if (targetLink !== target) await targetLink.close();
    await target.release();
  };
  if (keep) return { result, session, release, proxy: targetLink === target ? null : targetLink };
  await release();
  return { result };
}

/** Keys of the dataset on a target: ShardBridge's own (the exactly-once marker) left out. */
async function ownKeys(target) {
  const marks = await target.client().call('KEYS', 'shardbridge:*');
  return (await totalKeys(target)) - marks.length;
}

/** The live stream on a kept full-sync session, then the session and its target are released. */
async function liveStream(source, run, options) {
  try {
    const before = await run.proxy.stats();
    const values = await measureLiveStream(source, run.session.sync, {
      seconds: options.wanSeconds,
      catchUpSeconds: options.wanCatchUpSeconds,
    });
    const after = await run.proxy.stats();
    const proxy = {
      peakQueuedBytes: after.peakQueuedBytes,
      fullPauses: after.fullPauses,
      // The proxy's CPU over load and tail: near 1.0 would make the proxy, not the sync, the bottleneck.
      coresBusy: round((after.cpuSeconds - before.cpuSeconds) / (values.loadSeconds + values.tailSeconds)),
    };
    const mode = run.result.exactlyOnce ? 'exactly-once' : 'at-least-once';
    console.log(`bench: wan live ${mode} ${JSON.stringify(values)}; proxy ${JSON.stringify(proxy)}`);
    return { ...values, proxy };
  } finally {
    await run.release();
    await source.client().del(...LIVE_LOAD_KEYS);
  }
}
