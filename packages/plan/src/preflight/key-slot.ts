/**
 * Hash slot of a key as Redis Cluster computes it: CRC16-XMODEM of the key (or of its `{hash tag}` when the
 * braces hold at least one character) modulo 16384.
 */
export function keySlotOf(key: string): number {
  const bytes = Buffer.from(key);
  const open = bytes.indexOf(0x7b);
  let hashed = bytes;
  if (open >= 0) {
    const close = bytes.indexOf(0x7d, open + 1);
    if (close > open + 1) hashed = bytes.subarray(open + 1, close);
  }
  let crc = 0;
  for (const byte of hashed) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++)
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
}
