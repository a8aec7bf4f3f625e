import { networkFaultSuite } from './support/network-cases.js';

// Issue 9: a blackhole, 2 s of added latency and repeated connection cuts on every source link, under a continuous
// write load; durations in support/fault-timings.ts (SHARDBRIDGE_FAULTS_FULL=1 for the 30 s blackhole).
networkFaultSuite('source');
