import type { NodeLink } from '../discovery/probe-node.js';
import type { ExtraOutcome, NodeToCheck } from './node-check.js';
import { reasonOf } from './node-check.js';
import type { PreflightPermission, PreflightProblem, PreflightSourceNode } from './preflight-report.js';
import { rdbVersionFor } from './rdb-version.js';
import { replicaOutputBufferLimit } from '../rate-caps.js';

/** The source-only columns of a row. */
export type SourceExtra = Pick<
  PreflightSourceNode,
  'rdbVersion' | 'psync' | 'replconf' | 'replBacklogSize' | 'nonEmptyDbs' | 'replicaOutputBufferLimit'
>;

export const UNKNOWN_SOURCE_EXTRA: SourceExtra = {
  rdbVersion: null,
  psync: 'unknown',
  replconf: 'unknown',
  replBacklogSize: 'unknown',
};

/**
 * What a source master must allow for replication: its RDB version, its backlog size, and whether this user
 * may run PSYNC and REPLCONF. Permissions come from `ACL DRYRUN <user> …` (the user from ACL WHOAMI when the
 * plan names none); where ACL is not available (older server, ACL itself forbidden) COMMAND INFO tells a
 * renamed or disabled command, and a harmless `REPLCONF listening-port 0` tells whether REPLCONF is allowed.
 * Also flags a node that is not a master. With `replicates` false (scan mode) a forbidden PSYNC/REPLCONF is
 * still reported in the extras but is no problem: scan mode never sends them.
 */
export async function checkSourceMaster(
  link: NodeLink,
  info: Map<string, string>,
  node: NodeToCheck,
  username: string | undefined,
  replicates = true,
  readOutputBufferLimit = false,
): Promise<ExtraOutcome<SourceExtra>> {
  const problems: PreflightProblem[] = [];
  const version = info.get('redis_version');
  const fromInfo = Number(info.get('rdb_version'));
  const extra: SourceExtra = {
    rdbVersion:
      Number.isInteger(fromInfo) && fromInfo > 0 ? fromInfo : version ? rdbVersionFor(version) : null,
    replBacklogSize: await backlogSize(link, info),
    ...(readOutputBufferLimit ? { replicaOutputBufferLimit: await outputBufferLimit(link) } : {}),
    ...(await permissions(link, username)),
  };
  const address = `${node.announced.host}:${node.announced.port}`;
  if (info.get('role') !== 'master') {
    problems.push({
      side: 'source',
      address,
      code: 'PREFLIGHT_NOT_MASTER',
      message: `source node ${address} is a ${info.get('role') ?? 'node of unknown role'}, not a master`,
      fix: 'wait for the failover to settle and run preflight again, or give the master address',
    });
  }
  if (replicates && (extra.psync === 'forbidden' || extra.replconf === 'forbidden')) {
    const denied = [
      extra.psync === 'forbidden' ? 'PSYNC' : '',
      extra.replconf === 'forbidden' ? 'REPLCONF' : '',
    ]
      .filter(Boolean)
      .join(' and ');
    problems.push({
      side: 'source',
      address,
      code: 'PREFLIGHT_PSYNC_FORBIDDEN',
      message: `source node ${address} does not let this user run ${denied} (renamed, disabled or denied by ACL)`,
      fix: 'use scan mode (managed services often forbid replication commands), or grant the user +psync +replconf',
    });
  }
  return { extra, problems };
}

async function backlogSize(link: NodeLink, info: Map<string, string>): Promise<number | 'unknown'> {
  const fromInfo = Number(info.get('repl_backlog_size'));
  if (Number.isInteger(fromInfo) && fromInfo > 0) return fromInfo;
  try {
    const reply = (await link.call('CONFIG', 'GET', 'repl-backlog-size')) as unknown[];
    const value = Number(reply?.[1]);
    return Number.isInteger(value) && value > 0 ? value : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** The replica class of `client-output-buffer-limit`; `unknown` when CONFIG GET is refused (managed services). */
async function outputBufferLimit(link: NodeLink): Promise<number | null | 'unknown'> {
  try {
    const reply = (await link.call('CONFIG', 'GET', 'client-output-buffer-limit')) as unknown[];
    return typeof reply?.[1] === 'string' ? replicaOutputBufferLimit(reply[1]) : 'unknown';
  } catch {
    return 'unknown';
  }
}

async function permissions(
  link: NodeLink,
  username: string | undefined,
): Promise<Pick<SourceExtra, 'psync' | 'replconf'>> {
  const user = username ?? (await link.call('ACL', 'WHOAMI').catch(() => null));
  if (typeof user === 'string') {
    const psync = await dryRun(link, user, ['PSYNC', '?', '-1']);
    const replconf = await dryRun(link, user, ['REPLCONF', 'listening-port', '0']);
    if (psync !== 'unknown' && replconf !== 'unknown') return { psync, replconf };
  }
  const commands = await link.call('COMMAND', 'INFO', 'psync', 'replconf').catch(() => null);
  const known = Array.isArray(commands) && commands.length === 2;
  const psync: PreflightPermission = known && commands[0] === null ? 'forbidden' : 'unknown';
  let replconf: PreflightPermission = known && commands[1] === null ? 'forbidden' : 'unknown';
  if (replconf === 'unknown') {
    // Only sets this client's announced listening port; a master treats it as a no-op for a non-replica.
    replconf = await link.call('REPLCONF', 'listening-port', '0').then(
      () => 'permitted',
      (error: unknown) => (/NOPERM|unknown command/i.test(reasonOf(error)) ? 'forbidden' : 'unknown'),
    );
  }
  return { psync, replconf };
}

async function dryRun(link: NodeLink, user: string, command: string[]): Promise<PreflightPermission> {
  try {
    const reply = await link.call('ACL', 'DRYRUN', user, ...command);
    return reply === 'OK' ? 'permitted' : 'forbidden';
  } catch (error) {
    // The command itself is unknown to the server: renamed or disabled.
    if (/command .* not found|unknown command/i.test(reasonOf(error)) && !/'acl'/i.test(reasonOf(error))) {
      return 'forbidden';
    }
    return 'unknown';
  }
}
