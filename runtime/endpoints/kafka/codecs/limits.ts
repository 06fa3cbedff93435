/**
 * The bound on one record batch's decompressed size (decompression bombs). Kafka's default
 * `message.max.bytes` is ~1 MiB compressed; 16 MiB decompressed leaves room for well-compressed
 * real batches. A batch that would exceed it is undecodable (skipped, see undecodable.ts).
 */
export const MAX_DECOMPRESSED_BATCH_BYTES = 16 * 1024 * 1024;

export class BatchTooLarge extends Error {
  constructor(size: number | string) {
    super(`the batch decompresses to ${size} bytes, over the limit of ${MAX_DECOMPRESSED_BATCH_BYTES}`);
    this.name = 'BatchTooLarge';
  }
}
