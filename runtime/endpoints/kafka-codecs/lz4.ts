/**
 * LZ4 for Kafka record batches: the LZ4 frame format (v2 batches; the broken header checksum of
 * old magic v0/v1 messages does not apply). Output bounded by MAX_DECOMPRESSED_BATCH_BYTES: the
 * frame's declared content size, or its block count times its block size, is checked before
 * anything is allocated.
 */
import lz4 from 'lz4js';
import { BatchTooLarge, MAX_DECOMPRESSED_BATCH_BYTES } from './limits.ts';

export async function decompress(buffer: Buffer): Promise<Buffer> {
  const bound = lz4.decompressBound(buffer);
  if (!(bound >= 0)) throw new Error('not an LZ4 frame');
  if (bound > MAX_DECOMPRESSED_BATCH_BYTES) throw new BatchTooLarge(`up to ${bound}`);
  const out = new Uint8Array(bound);
  const size = lz4.decompressFrame(buffer, out);
  if (!(size >= 0)) throw new Error('corrupt LZ4 frame');
  return Buffer.from(out.buffer, out.byteOffset, size);
}

export async function compress(data: Buffer): Promise<Buffer> {
  return Buffer.from(lz4.compress(data));
}
