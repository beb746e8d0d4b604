/**
 * @module
 * The partition kafkajs 2.2.4's `DefaultPartitioner` (the Java-compatible one) picks for a keyed
 * message: `toPositive(murmur2(utf8(key))) % numPartitions`. The generator and the reference
 * calculator use it to know which partition, and so which order, each event lands in.
 */

const SEED = 0x9747b28c;
const M = 0x5bd1e995;
const encoder = new TextEncoder();

/**
 * Kafka's 32-bit murmur2 (Java client `Utils.murmur2`) of some bytes, as a signed 32-bit integer.
 * @param data the key bytes
 */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = (SEED ^ length) | 0;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = data[i4] | (data[i4 + 1] << 8) | (data[i4 + 2] << 16) | (data[i4 + 3] << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const tail = length & ~3;
  const rest = length % 4;
  if (rest === 3) h ^= data[tail + 2] << 16;
  if (rest >= 2) h ^= data[tail + 1] << 8;
  if (rest >= 1) h = Math.imul(h ^ data[tail], M);
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/**
 * The partition of a message with this key among `numPartitions`, as kafkajs's default
 * partitioner computes it (the key is UTF-8 encoded; lone surrogates become U+FFFD like Node's
 * `Buffer.from`).
 * @param key the message key (our producers use `user_id`)
 * @param numPartitions the topic's partition count
 * @throws {RangeError} when `numPartitions` is not a positive integer
 */
export function partitionFor(key: string | Uint8Array, numPartitions: number): number {
  if (!Number.isSafeInteger(numPartitions) || numPartitions < 1) {
    throw new RangeError(
      `Cannot pick a partition: 'numPartitions' must be a positive integer, got ${numPartitions}`,
    );
  }
  const bytes = typeof key === "string" ? encoder.encode(key) : key;
  return (murmur2(bytes) & 0x7fffffff) % numPartitions;
}
