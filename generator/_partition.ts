/**
 * `partitionFor(key, n)`: the kafkajs default partitioner (Java-compatible murmur2 of the UTF-8
 * key, `& 0x7fffffff`, modulo n). Computed with 32-bit integer maths; `_partition_test.ts` checks
 * it against kafkajs itself.
 * TODO: re-export shared/partitioner.ts once it lands.
 */
const encoder = new TextEncoder();

/** Java/kafkajs murmur2 of the bytes (signed 32-bit result). */
export function murmur2(data: Uint8Array): number {
  const m = 0x5bd1e995;
  const length = data.length;
  let h = (0x9747b28c ^ length) | 0;
  const length4 = length >> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = data[i4] | (data[i4 + 1] << 8) | (data[i4 + 2] << 16) | (data[i4 + 3] << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const rest = length & 3;
  const base = length & ~3;
  if (rest === 3) h ^= data[base + 2] << 16;
  if (rest >= 2) h ^= data[base + 1] << 8;
  if (rest >= 1) {
    h ^= data[base];
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** The partition kafkajs's default partitioner picks for a key. */
export function partitionFor(key: string, numPartitions: number): number {
  return (murmur2(encoder.encode(key)) & 0x7fffffff) % numPartitions;
}
