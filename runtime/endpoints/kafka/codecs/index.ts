/**
 * The record batch codecs kafkajs lacks (it has gzip): snappy (xerial-framed and raw), lz4
 * (frame format) and zstd, registered once into kafkajs's CompressionCodecs when the Kafka
 * endpoint module loads. Every decompression, gzip included, is bounded
 * (MAX_DECOMPRESSED_BATCH_BYTES) and guarded: a batch that cannot be decoded becomes stand-in
 * records the consumers skip (undecodable.ts) instead of crashing the fetch.
 */
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import kafkajs, { CompressionTypes } from 'kafkajs';
import * as snappy from './snappy.ts';
import * as lz4 from './lz4.ts';
import * as zstd from './zstd.ts';
import { MAX_DECOMPRESSED_BATCH_BYTES } from './limits.ts';
import { decodeOrStandIn } from './undecodable.ts';

interface Codec {
  compress(data: Buffer): Promise<Buffer>;
  decompress(data: Buffer): Promise<Buffer>;
}

const gzipAsync = promisify(zlib.gzip);
const gunzipAsync = promisify(zlib.gunzip);
const gzip: Codec = {
  compress: (data) => gzipAsync(data),
  decompress: (data) => gunzipAsync(data, { maxOutputLength: MAX_DECOMPRESSED_BATCH_BYTES }),
};
const codecs: readonly (readonly [Exclude<CompressionTypes, CompressionTypes.None>, Codec])[] = [
  [CompressionTypes.GZIP, gzip],
  [CompressionTypes.Snappy, snappy],
  [CompressionTypes.LZ4, lz4],
  [CompressionTypes.ZSTD, zstd],
];

let registered = false;

/** kafkajs's codec contract: compress gets its Encoder (`.buffer`), decompress the compressed records. */
export function registerKafkaCodecs(): void {
  if (registered) return;
  registered = true;
  for (const [type, codec] of codecs) {
    const guarded = {
      compress: (encoder: { buffer: Buffer }) => codec.compress(encoder.buffer),
      decompress: (buffer: Buffer) => decodeOrStandIn(buffer, type, codec.decompress),
    };
    kafkajs.CompressionCodecs[type] = () => guarded; // a CommonJS export Node's ESM loader does not name
  }
}
