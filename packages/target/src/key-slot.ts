/** Number of hash slots of a Redis Cluster. */
export const SLOT_COUNT = 16384;

/** CRC16-CCITT (XMODEM: poly 0x1021, init 0), the checksum Redis Cluster hashes keys with. */
const TABLE = (() => {
  const table = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let bit = 0; bit < 8; bit++)
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[i] = crc;
  }
  return table;
})();

function crc16(key: Buffer, start: number, end: number): number {
  let crc = 0;
  for (let i = start; i < end; i++) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ key[i]) & 0xff];
  return crc;
}

/**
 * The slot of a key: only the part between the first `{` and the next `}` is hashed when that part is
 * non-empty (a hash tag), else the whole key. A string key is hashed as its UTF-8 bytes, as a client sends it.
 */
export function keySlot(key: string | Buffer): number {
  const bytes = typeof key === 'string' ? Buffer.from(key) : key;
  const open = bytes.indexOf(0x7b);
  if (open !== -1) {
    const close = bytes.indexOf(0x7d, open + 1);
    if (close > open + 1) return crc16(bytes, open + 1, close) & (SLOT_COUNT - 1);
  }
  return crc16(bytes, 0, bytes.length) & (SLOT_COUNT - 1);
}
