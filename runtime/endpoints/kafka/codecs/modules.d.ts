/** The parts of the pure-JS codec libraries (no bundled types) that codecs/ uses. */
declare module 'snappyjs' {
  export function uncompress(compressed: Uint8Array, maxLength?: number): Uint8Array;
  export function compress(uncompressed: Uint8Array): Uint8Array;
  const snappy: { uncompress: typeof uncompress; compress: typeof compress };
  export default snappy;
}

declare module 'lz4js' {
  export function decompressBound(src: Uint8Array): number;
  export function decompressFrame(src: Uint8Array, dst: Uint8Array): number;
  export function compressBound(length: number): number;
  /** Compresses src[sIndex, sIndex + sLength) into dst from 0; returns the compressed length (0: not compressible). */
  export function compressBlock(src: Uint8Array, dst: Uint8Array, sIndex: number, sLength: number, hashTable: Uint32Array): number;
  const lz4: { decompressBound: typeof decompressBound; decompressFrame: typeof decompressFrame; compressBound: typeof compressBound; compressBlock: typeof compressBlock };
  export default lz4;
}

declare module 'lz4js/xxh32.js' {
  export function hash(seed: number, src: Uint8Array, index: number, length: number): number;
  const xxh32: { hash: typeof hash };
  export default xxh32;
}
