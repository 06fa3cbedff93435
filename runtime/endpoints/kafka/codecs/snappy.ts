/**
 * Snappy for Kafka record batches. Java clients write the xerial framing (a 16-byte header
 * `\x82SNAPPY\0` + version + compatible version, then blocks of int32 length + raw snappy);
 * librdkafka and kafkajs-snappy may write a raw snappy block. Both are read; xerial-framed
 * blocks of 32 KiB are written (every client reads them). Output bounded by
 * MAX_DECOMPRESSED_BATCH_BYTES, checked from each block's
 * declared length before allocating.
 */
import snappy from 'snappyjs';
import { MAX_DECOMPRESSED_BATCH_BYTES } from './limits.ts';

const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER_BYTES = 16;
const BLOCK_BYTES = 32 * 1024;

/** snappyjs checks the block's declared length against the budget before allocating. */
function rawBlock(block: Buffer, budget: number): Buffer {
  return Buffer.from(snappy.uncompress(block, budget));
}

export async function decompress(buffer: Buffer): Promise<Buffer> {
  if (buffer.length < XERIAL_HEADER_BYTES || !buffer.subarray(0, XERIAL_MAGIC.length).equals(XERIAL_MAGIC)) {
    return rawBlock(buffer, MAX_DECOMPRESSED_BATCH_BYTES);
  }
  const blocks: Buffer[] = [];
  let total = 0;
  for (let at = XERIAL_HEADER_BYTES; at < buffer.length; ) {
    if (at + 4 > buffer.length) throw new Error('truncated xerial snappy block length');
    const size = buffer.readInt32BE(at);
    if (size < 0 || at + 4 + size > buffer.length) throw new Error('truncated xerial snappy block');
    const block = rawBlock(buffer.subarray(at + 4, at + 4 + size), MAX_DECOMPRESSED_BATCH_BYTES - total);
    total += block.length;
    blocks.push(block);
    at += 4 + size;
  }
  return Buffer.concat(blocks, total);
}

export async function compress(data: Buffer): Promise<Buffer> {
  const header = Buffer.alloc(XERIAL_HEADER_BYTES);
  XERIAL_MAGIC.copy(header);
  header.writeInt32BE(1, 8); // version
  header.writeInt32BE(1, 12); // minimum compatible version
  const parts: Buffer[] = [header];
  for (let at = 0; at < data.length; at += BLOCK_BYTES) {
    const block = Buffer.from(snappy.compress(data.subarray(at, at + BLOCK_BYTES)));
    const length = Buffer.alloc(4);
    length.writeInt32BE(block.length);
    parts.push(length, block);
  }
  return Buffer.concat(parts);
}
