/**
 * LZ4 for Kafka record batches: the LZ4 frame format (v2 batches; the broken header checksum of
 * old magic v0/v1 messages does not apply). Output bounded by MAX_DECOMPRESSED_BATCH_BYTES: the
 * frame's declared content size, or its block count times its block size, is checked before
 * anything is allocated. Written frames have independent 64 KiB blocks, as Kafka's Java client requires.
 */
import lz4 from 'lz4js';
import xxh32 from 'lz4js/xxh32.js';
import { BatchTooLarge, MAX_DECOMPRESSED_BATCH_BYTES } from './limits.ts';

const MAGIC = 0x184d2204;

export async function decompress(buffer: Buffer): Promise<Buffer> {
  const bound = lz4.decompressBound(buffer);
  if (!(bound >= 0)) throw new Error('not an LZ4 frame');
  if (bound > MAX_DECOMPRESSED_BATCH_BYTES) throw new BatchTooLarge(`up to ${bound}`);
  const out = new Uint8Array(bound);
  const size = lz4.decompressFrame(buffer, out);
  if (!(size >= 0)) throw new Error('corrupt LZ4 frame');
  return Buffer.from(out.buffer, out.byteOffset, size);
}

/** Kafka's Java reader accepts only independent blocks (FLG bit 5), which lz4js's own frame writer neither sets nor guarantees. */
const FLG_VERSION_1_INDEPENDENT_BLOCKS = 0x60;
/** 64 KiB blocks, as the Java client writes them. */
const BD_64_KIB = 4 << 4;
const BLOCK_BYTES = 64 * 1024;
const UNCOMPRESSED_BLOCK = 0x80000000;

export async function compress(data: Buffer): Promise<Buffer> {
  const descriptor = Buffer.from([FLG_VERSION_1_INDEPENDENT_BLOCKS, BD_64_KIB]);
  const header = Buffer.alloc(7);
  header.writeUInt32LE(MAGIC, 0);
  descriptor.copy(header, 4);
  header[6] = (xxh32.hash(0, descriptor, 0, 2) >>> 8) & 0xff;
  const parts: Buffer[] = [header];
  const table = new Uint32Array(1 << 16);
  const scratch = new Uint8Array(lz4.compressBound(BLOCK_BYTES));
  for (let at = 0; at < data.length; at += BLOCK_BYTES) {
    const size = Math.min(BLOCK_BYTES, data.length - at);
    table.fill(0); // a fresh table per block: no match reaches into the previous one
    const compressed = lz4.compressBlock(data, scratch, at, size, table);
    const length = Buffer.alloc(4);
    if (compressed > 0 && compressed < size) {
      length.writeUInt32LE(compressed);
      parts.push(length, Buffer.from(scratch.subarray(0, compressed)));
    } else {
      length.writeUInt32LE((UNCOMPRESSED_BLOCK | size) >>> 0);
      parts.push(length, data.subarray(at, at + size));
    }
  }
  parts.push(Buffer.alloc(4)); // end mark
  return Buffer.concat(parts);
}
