import type { ByteReader } from '../byte-reader.js';

/**
 * The 7.0 release-candidate function format (opcode 246): library name, engine name, optional description,
 * code. Returned in today's form (what opcode 247 holds and FUNCTION LOAD takes): the code with the name and
 * engine in its shebang line.
 */
export function readPreGaFunction(r: ByteReader): Buffer {
  const name = r.string();
  const engine = r.string();
  if (r.len() !== 0) r.skipString();
  const code = r.string();
  return Buffer.concat([
    Buffer.from(`#!${engine.toString('latin1')} name=${name.toString('latin1')} \n`),
    code,
  ]);
}
