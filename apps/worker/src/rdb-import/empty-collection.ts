import { RdbParser, valueToCanonical, type RdbKeyRecord, type RdbValue } from '@shardbridge/rdb';

/** Empty collections are tiny; anything larger holds elements and is never parsed twice. */
const SMALL_PAYLOAD_BYTES = 256;
/** RDB string type: never empty in the collection sense. */
const TYPE_STRING = 0;
/** Version (u16) and CRC-64 after the value bytes of a RESTORE payload. */
const PAYLOAD_TRAILER = 10;
const FIRST_VERSION_WITH_CHECKSUM = 5;

/**
 * Whether the server would drop this key on load as an empty collection (some old or hand-made RDB files hold
 * them; RESTORE refuses them with "Bad data format"). Only small non-string payloads are decoded, by wrapping
 * the value in a one-key RDB and parsing that; everything else is known not to be empty.
 */
export function isEmptyCollection(record: RdbKeyRecord, now: number): boolean {
  const payload = record.restorePayload;
  if (payload.length > SMALL_PAYLOAD_BYTES || payload[0] === TYPE_STRING) return false;
  const value = decodeSingleValue(payload, record.rdbVersion);
  return value !== undefined && value.type !== 'stream' && valueToCanonical(value, now) === undefined;
}

function decodeSingleValue(payload: Buffer, rdbVersion: number): RdbValue | undefined {
  const header = Buffer.from(`REDIS${String(rdbVersion).padStart(4, '0')}`, 'latin1');
  // type byte, an empty key name (length 0), the value bytes, EOF; a zero checksum is never verified.
  const eof = Buffer.alloc(rdbVersion >= FIRST_VERSION_WITH_CHECKSUM ? 9 : 1);
  eof[0] = 0xff;
  const rdb = Buffer.concat([
    header,
    payload.subarray(0, 1),
    Buffer.from([0]),
    payload.subarray(1, payload.length - PAYLOAD_TRAILER),
    eof,
  ]);
  let value: RdbValue | undefined;
  const parser = new RdbParser({ onKey: (record) => (value = record.value) }, { verifyChecksum: false });
  parser.push(rdb);
  parser.end();
  return value;
}
