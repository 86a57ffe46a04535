/** Address keys for the modern tables' model tests: key id -> (family, w0, w1), IPv4 keys (w1 = 0) and IPv6 ones, some sharing words. */
export function keyOf(id: number): [number, number, number] {
  if (id % 3 === 0) return [4, (0xc0000200 + id) | 0, 0];
  if (id % 3 === 1) return [6, 0x20010db8 | 0, id | 0];
  return [6, (0x20010db9 + (id & 7)) | 0, (id >>> 3) | 0];
}
