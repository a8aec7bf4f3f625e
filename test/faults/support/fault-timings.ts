/**
 * `SHARDBRIDGE_FAULTS_FULL=1` runs the network faults with the durations; by default they are shortened so
 * the whole fault suite fits CI's budget. The recovery paths are the same either way: a stalled link is noticed
 * when the blackhole ends and its connections are cut, however long it lasted.
 */
export const FAULTS_FULL = process.env.SHARDBRIDGE_FAULTS_FULL === '1';

/** How long a blackhole swallows every byte of a side's links. Issue 9 asks for 30 s. */
export const BLACKHOLE_MS = FAULTS_FULL ? 30_000 : 4_000;

/** Added latency, each way, on a side's links. */
export const ADDED_LATENCY_MS = 2_000;

/** How long the added latency stays on. */
export const LATENCY_HOLD_MS = FAULTS_FULL ? 30_000 : 6_000;

/** Time between two cuts of every connection of a side. */
export const CUT_EVERY_MS = 2_500;

/** How many times a side's connections are cut. */
export const CUTS = FAULTS_FULL ? 12 : 4;

/** One line for the test output saying which timings ran. */
export function timingsLine(): string {
  return (
    `fault timings (${FAULTS_FULL ? 'full, SHARDBRIDGE_FAULTS_FULL=1' : 'short; SHARDBRIDGE_FAULTS_FULL=1 for the issue’s'}): ` +
    `blackhole ${BLACKHOLE_MS / 1000} s, +${ADDED_LATENCY_MS / 1000} s latency for ${LATENCY_HOLD_MS / 1000} s, ` +
    `${CUTS} cuts every ${CUT_EVERY_MS / 1000} s`
  );
}
