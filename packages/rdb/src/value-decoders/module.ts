import type { ByteReader } from '../byte-reader.js';
import { RdbModuleOpcode } from '../rdb-constants.js';

/**
 * Skips a module-serialized payload (module values of type 7 after their module id, and MODULE_AUX
 * bodies): a sequence of `opcode, operand` pairs ending with RDB_MODULE_OPCODE_EOF. This is the
 * self-describing format Redis uses so a file can be walked without the module loaded.
 */
export function skipModulePayload(r: ByteReader): void {
  while (true) {
    const at = r.pos;
    const op = r.len();
    switch (op) {
      case RdbModuleOpcode.EOF:
        return;
      case RdbModuleOpcode.SINT:
      case RdbModuleOpcode.UINT:
        r.lenBig();
        break;
      case RdbModuleOpcode.FLOAT:
        r.skip(4);
        break;
      case RdbModuleOpcode.DOUBLE:
        r.skip(8);
        break;
      case RdbModuleOpcode.STRING:
        r.skipString();
        break;
      default:
        throw r.corrupt(`unknown module value opcode ${op}`, at);
    }
  }
}
