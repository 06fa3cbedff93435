/** The parts of the pure-JS codec libraries (no bundled types) that kafka-codecs uses. */
declare module 'snappyjs' {
  export function uncompress(compressed: Uint8Array, maxLength?: number): Uint8Array;
  export function compress(uncompressed: Uint8Array): Uint8Array;
  const snappy: { uncompress: typeof uncompress; compress: typeof compress };
  export default snappy;
}

declare module 'lz4js' {
  export function decompressBound(src: Uint8Array): number;
  export function decompressFrame(src: Uint8Array, dst: Uint8Array): number;
  export function compress(src: Uint8Array, maxSize?: number): Uint8Array;
  const lz4: { decompressBound: typeof decompressBound; decompressFrame: typeof decompressFrame; compress: typeof compress };
  export default lz4;
}
