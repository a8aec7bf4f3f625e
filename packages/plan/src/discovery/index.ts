export { DiscoveryError, type DiscoveryErrorCode } from './errors.js';
export {
  formatSlotRanges,
  mergeSlotRanges,
  missingSlotRanges,
  SLOT_COUNT,
  type SlotRange,
} from './slot-ranges.js';
export {
  parseClusterNodes,
  parseClusterShards,
  parseClusterSlots,
  type ParseShardsOptions,
  type TopologyMaster,
  type TopologyReplica,
} from './cluster-topology.js';
export { NodeProbeError, openNode, type NodeLink, type NodeLinkOptions } from './probe-node.js';
export { readTopology, readTopologyFromSeeds, type SeedTopology } from './cluster-seed.js';
export { checkMasters, type MasterAddress, type MasterFacts } from './master-reachability.js';
export { discoverSourceShards, type DiscoveredShard, type DiscoverSourceOptions } from './discover-source.js';
export { discoverNatAddresses, type NatDiscovery } from './nat-discover.js';
export { discoverManualShards } from './manual-shards.js';
export { chooseReplicas, type ReplicaSource } from './replica-choice.js';
export {
  classifyTlsError,
  describeTlsError,
  isSharedTlsFailure,
  tlsFix,
  type TlsFailure,
} from './tls-failure.js';
export { replicaAddresses, type ReplicaAddress } from './replica-addresses.js';
