import { isIP } from 'node:net';
import { formatHostPort, type HostPort } from '../host-port.js';
import {
  NodeProbeError,
  openNode,
  parseInfo,
  type NodeLink,
  type NodeLinkOptions,
} from '../discovery/probe-node.js';
import { formatSlotRanges, type SlotRange } from '../discovery/slot-ranges.js';
import { tlsFix } from '../discovery/tls-failure.js';
import type { PreflightMappedBy, PreflightNode, PreflightProblem } from './preflight-report.js';

/** A node to check: where the topology (or the plan) puts it and where it is dialled. */
export interface NodeToCheck {
  side: 'source' | 'target';
  nodeId: string | null;
  slots: SlotRange[];
  announced: HostPort;
  reachable: HostPort;
  mappedBy: PreflightMappedBy;
  /** index of the natRules rule that mapped it */
  rule?: number;
}

/** How to reach nodes of one side, and how long one node's checks may take in all. */
export interface NodeCheckOptions {
  link: Omit<NodeLinkOptions, 'servername' | 'onConnected'>;
  /** bound, in ms, on all of one node's checks together */
  deadlineMs: number;
}

/** What a side-specific check adds to the node's row, and the problems it found. */
export interface ExtraOutcome<T> {
  extra: T;
  problems: PreflightProblem[];
}

/**
 * Connects to a node (timing the connect), authenticates, reads INFO and, for a cluster node, checks that
 * CLUSTER MYID is the id the topology names; then runs `more`. Never throws: every failure becomes the row's
 * `error` and a problem with a fix. The whole check is bounded by `deadlineMs`; a node that accepts but never
 * answers is reported as such when it runs out.
 */
export async function checkNode<T>(
  node: NodeToCheck,
  options: NodeCheckOptions,
  fallback: T,
  more: (link: NodeLink, info: Map<string, string>, row: PreflightNode) => Promise<ExtraOutcome<T>>,
): Promise<{ row: PreflightNode; extra: T; problems: PreflightProblem[] }> {
  const row: PreflightNode = {
    nodeId: node.nodeId,
    slots: node.slots,
    role: null,
    announced: formatHostPort(node.announced),
    reachable: formatHostPort(node.reachable),
    mappedBy: node.mappedBy,
    connectMs: null,
    auth: 'not-checked',
    version: null,
    error: null,
  };
  const problems: PreflightProblem[] = [];
  let link: NodeLink | undefined;
  let expired = false;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'expired'>((resolve) => {
    timer = setTimeout(() => {
      expired = true;
      link?.close();
      resolve('expired');
    }, options.deadlineMs);
  });
  const work = async (): Promise<T> => {
    const credentials = options.link.username !== undefined || options.link.password !== undefined;
    try {
      link = await openNode(node.reachable, {
        ...options.link,
        servername: isIP(node.announced.host) ? undefined : node.announced.host,
        onConnected: (ms) => {
          row.connectMs = ms;
        },
      });
    } catch (error) {
      if (error instanceof NodeProbeError && error.kind === 'auth') {
        row.auth = 'refused';
        throw new CheckFailure(authProblem(node, error.message), error.message);
      }
      if (error instanceof NodeProbeError && error.kind === 'tls') {
        throw new CheckFailure(tlsProblem(node, error), error.message);
      }
      throw new CheckFailure(unreachableProblem(node, reasonOf(error)), reasonOf(error));
    }
    if (expired) link.close();
    row.auth = credentials ? 'ok' : 'not-required';
    const info = parseInfo(String(await link.call('INFO')));
    row.role = info.get('role') ?? null;
    row.version = info.get('redis_version') ?? null;
    if (node.nodeId && info.get('cluster_enabled') === '1') {
      const myId = await link.call('CLUSTER', 'MYID').catch(() => null);
      if (typeof myId === 'string' && myId !== node.nodeId) {
        throw new CheckFailure(wrongNodeProblem(node, myId), `answered as node ${myId}`);
      }
    }
    const outcome = await more(link, info, row);
    problems.push(...outcome.problems);
    return outcome.extra;
  };
  try {
    const result = await Promise.race([work(), deadline]);
    if (result === 'expired') {
      const message = `no answer within ${options.deadlineMs} ms`;
      row.error = message;
      problems.push(unreachableProblem(node, message));
      return { row, extra: fallback, problems };
    }
    return { row, extra: result, problems };
  } catch (error) {
    if (error instanceof CheckFailure) {
      row.error = error.reason;
      problems.push(error.problem);
    } else {
      row.error = expired ? `no answer within ${options.deadlineMs} ms` : reasonOf(error);
      problems.push(unreachableProblem(node, row.error));
    }
    return { row, extra: fallback, problems };
  } finally {
    clearTimeout(timer);
    link?.close();
  }
}

/** A check that failed with a problem already worded. */
class CheckFailure extends Error {
  constructor(
    readonly problem: PreflightProblem,
    readonly reason: string,
  ) {
    super(problem.message);
  }
}

function which(node: NodeToCheck): string {
  const announced = formatHostPort(node.announced);
  const role = node.side === 'source' ? 'source master' : 'target node';
  const slots = node.nodeId ? ` (slots ${formatSlotRanges(node.slots)})` : '';
  return `${role} ${announced}${slots}`;
}

/** The natMap line that would map `node`, as it would be written in the plan. */
export function natMapLine(node: NodeToCheck): string {
  return `"${formatHostPort(node.announced)}": "<reachable-host>:<port>"`;
}

export function unreachableProblem(node: NodeToCheck, reason: string): PreflightProblem {
  const announced = formatHostPort(node.announced);
  const reachable = formatHostPort(node.reachable);
  const side = node.side;
  const fixes: Record<PreflightMappedBy, string> = {
    identity: `if this host cannot dial ${announced}, add to ${side}.natMap: ${natMapLine(node)}`,
    natMap: `correct ${side}.natMap["${announced}"] (now "${reachable}")`,
    natRule: `correct ${side}.natRules[${node.rule}], or add to ${side}.natMap (which takes precedence): ${natMapLine(node)}`,
    natDiscover: `check that ${reachable} (from ${side}.natDiscover) is reachable from this host`,
    seed: `check ${side}.seeds: ${reachable} must be reachable from this host`,
    manual: `check source.shards: ${reachable} must be the reachable address of the shard's master`,
  };
  // A standalone node has no announced address (no cluster announces it): it was dialled as the seeds give it.
  const via =
    announced !== reachable
      ? `at ${reachable} (${node.mappedBy})`
      : node.mappedBy === 'seed'
        ? `at the address in ${side}.seeds`
        : 'at its announced address';
  return {
    side,
    address: announced,
    code: 'PREFLIGHT_UNREACHABLE',
    message: `${which(node)} does not answer ${via}: ${reason}`,
    fix: fixes[node.mappedBy],
  };
}

function authProblem(node: NodeToCheck, reason: string): PreflightProblem {
  return {
    side: node.side,
    address: formatHostPort(node.announced),
    code: 'PREFLIGHT_AUTH',
    message: `${which(node)} refused the credentials: ${reason}`,
    fix: `check ${node.side}.username and ${node.side}.password`,
  };
}

function tlsProblem(node: NodeToCheck, error: NodeProbeError): PreflightProblem {
  const via = formatHostPort(node.reachable);
  return {
    side: node.side,
    address: formatHostPort(node.announced),
    code: 'PREFLIGHT_TLS',
    message: `${which(node)}${via === formatHostPort(node.announced) ? '' : ` (via ${via})`}: ${error.message}`,
    fix: tlsFix(error.tlsFailure ?? 'handshake', node.side),
  };
}

function wrongNodeProblem(node: NodeToCheck, actual: string): PreflightProblem {
  const announced = formatHostPort(node.announced);
  return {
    side: node.side,
    address: announced,
    code: 'PREFLIGHT_WRONG_NODE',
    message:
      `${which(node)} is node ${node.nodeId}, but ${formatHostPort(node.reachable)} (${node.mappedBy}) ` +
      `answers as node ${actual}`,
    fix: `correct the mapping of "${announced}" so it leads to node ${node.nodeId}`,
  };
}

export function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
