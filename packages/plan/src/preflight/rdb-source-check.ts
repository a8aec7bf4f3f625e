import { open } from 'node:fs/promises';
import type { RdbSourceSpec } from '../plan-schema.js';
import type { PreflightProblem } from './preflight-report.js';

const MAGIC = 'REDIS';

/**
 * Preflight of an RDB-file source: the file exists on this host, can be read and starts with the RDB magic.
 * The file itself is parsed only by the import (a corrupt body is reported there, with its byte offset).
 */
export async function preflightRdbSource(spec: RdbSourceSpec): Promise<PreflightProblem[]> {
  const problem = (message: string, fix: string): PreflightProblem[] => [
    { side: 'source', address: spec.path, code: 'PREFLIGHT_RDB_FILE', message, fix },
  ];
  let head: Buffer;
  try {
    const file = await open(spec.path, 'r');
    try {
      head = Buffer.alloc(MAGIC.length);
      const { bytesRead } = await file.read(head, 0, MAGIC.length, 0);
      head = head.subarray(0, bytesRead);
    } finally {
      await file.close();
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    return problem(
      `cannot read the RDB file ${spec.path} on this host (${code})`,
      'give source.path as a path on the host that runs the import, readable by its user',
    );
  }
  if (head.toString('latin1') !== MAGIC) {
    return problem(
      `${spec.path} is not an RDB file: it does not start with "REDIS"`,
      'point source.path at a dump.rdb written by SAVE/BGSAVE',
    );
  }
  return [];
}
