/**
 * Zstandard for Kafka record batches (@bokuweb/zstd-wasm, initialised once). Output bounded by
 * MAX_DECOMPRESSED_BATCH_BYTES: a frame declaring a larger content size is refused before
 * decompression; a frame without one (streaming producers such as the Java client) gets a
 * buffer of the limit and fails if it needs more.
 */
import { compress as zstdCompress, decompress as zstdDecompress, init } from '@bokuweb/zstd-wasm';
import { BatchTooLarge, MAX_DECOMPRESSED_BATCH_BYTES } from './limits.ts';

const MAGIC = 0xfd2fb528;
const LEVEL = 3;
let ready: Promise<void> | undefined;

/** The frame content size the first frame header declares, or undefined when it declares none. */
function declaredSize(buffer: Buffer): number | undefined {
  if (buffer.length < 6 || buffer.readUInt32LE(0) !== MAGIC) throw new Error('not a zstd frame');
  const descriptor = buffer[4]!;
  const sizeFlag = descriptor >> 6;
  const singleSegment = (descriptor >> 5) & 1;
  const dictionaryBytes = [0, 1, 2, 4][descriptor & 3]!;
  const at = 5 + (singleSegment ? 0 : 1) + dictionaryBytes;
  const sizeBytes = [singleSegment ? 1 : 0, 2, 4, 8][sizeFlag]!;
  if (sizeBytes === 0) return undefined;
  if (at + sizeBytes > buffer.length) throw new Error('truncated zstd frame header');
  if (sizeBytes === 1) return buffer[at]!;
  if (sizeBytes === 2) return buffer.readUInt16LE(at) + 256;
  if (sizeBytes === 4) return buffer.readUInt32LE(at);
  return Number(buffer.readBigUInt64LE(at));
}

export async function decompress(buffer: Buffer): Promise<Buffer> {
  await (ready ??= init());
  const size = declaredSize(buffer);
  if (size !== undefined && size > MAX_DECOMPRESSED_BATCH_BYTES) throw new BatchTooLarge(size);
  const out = zstdDecompress(buffer, { defaultHeapSize: MAX_DECOMPRESSED_BATCH_BYTES });
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}

export async function compress(data: Buffer): Promise<Buffer> {
  await (ready ??= init());
  const out = zstdCompress(data, LEVEL);
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}
