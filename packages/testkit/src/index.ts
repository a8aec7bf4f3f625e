export * from './errors.js';
export { freePort, type FreePortOptions } from './free-port.js';
export { containerRuntimeAvailable } from './container-runtime.js';
export { parseInfo } from './info.js';
export { pingOnce, type PingCredentials } from './ping.js';
export { liveProcessCount } from './process-registry.js';
export type { RedisConfig } from './redis-config.js';
export { startRedis, type RedisServer, type StartRedisOptions } from './redis-server.js';
export { requestedRedisBin, ROLE_BIN_ENV, type RedisRole } from './redis-bin.js';
export { announcedHostname, startCluster, type RedisCluster, type StartClusterOptions } from './cluster.js';
export { parseClusterNodes, topologyFingerprint, type ClusterNodeEntry } from './cluster-nodes.js';
export { keySlot, SLOT_COUNT } from '@shardbridge/target';
export {
  startFaultProxy,
  type FaultProxy,
  type FaultProxyOptions,
  type FaultProxyStats,
  type ProxyTarget,
} from './fault-proxy.js';
export {
  contentsOf,
  type ContentsOptions,
  type KeyContents,
  type KeyValue,
  type RedisContents,
  type StreamContents,
  type StreamGroupContents,
} from './contents.js';
export {
  assertSameContents,
  ContentsMismatchError,
  diffContents,
  formatDifferences,
  printableKey,
  type ContentDifference,
  type DiffOptions,
} from './contents-diff.js';
export { proxyCluster, type ClusterProxies } from './cluster-proxies.js';
export { FAR_EXPIRY_MS, loadEveryType, writeEveryCommandOnce } from './dataset.js';
export {
  byteByByte,
  everyByteSplitPoints,
  randomChunks,
  randomSplitPoints,
  seededRandom,
} from './chunking.js';
export { startTlsRedis, type StartTlsRedisOptions, type TlsRedis } from './tls-fixture.js';
export { createTestPki, type TestPki } from './test-pki.js';
export { waitFor } from './wait-for.js';
export { startNatNetwork, type NatNetwork } from './netns-network.js';
export {
  natNamespaceUnsupportedReason,
  startNatNamespaceCluster,
  type NatNamespaceCluster,
  type NatNamespaceNode,
  type StartNatNamespaceClusterOptions,
} from './netns-nat.js';
