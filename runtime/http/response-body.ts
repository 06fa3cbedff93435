/**
 * Reading an HTTP response body (fetch) with a bound: what the runtime downloads (store pointers and
 * bundles, JWKS) never holds more than `maxBytes`. A larger Content-Length is refused up front, a
 * longer stream while reading; either way the body is cancelled and the error names `what`.
 */
export async function readResponseBounded(res: Response, maxBytes: number, what: string): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await res.body?.cancel().catch(() => {});
    throw new Error(`${what} is ${declared} bytes, more than the ${maxBytes} allowed`);
  }
  if (!res.body) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let size = 0;
  const reader = res.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) throw new Error(`${what} is more than the ${maxBytes} bytes allowed`);
      chunks.push(Buffer.from(value));
    }
  } catch (error) {
    await reader.cancel().catch(() => {});
    throw error;
  } finally {
    reader.releaseLock();
  }
  return Buffer.concat(chunks);
}
