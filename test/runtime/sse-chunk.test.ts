import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { chunkOf } from '../../runtime/entrypoints/sse.ts';

let server: http.Server | undefined;
afterEach(() => void server?.close());

/** The raw bytes node's res.write(event) puts on a chunked response, after the headers. */
async function writtenByNode(event: Buffer): Promise<Buffer> {
  server = http.createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/event-stream' });
    res.flushHeaders();
    res.write(event, () => res.socket?.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const socket = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  const parts: Buffer[] = [];
  socket.on('data', (part: Buffer) => parts.push(part));
  await once(socket, 'close');
  const raw = Buffer.concat(parts);
  return raw.subarray(raw.indexOf('\r\n\r\n') + 4);
}

describe('sse chunkOf', () => {
  it('is byte for byte what res.write puts on a chunked response', async () => {
    for (const length of [1, 15, 16, 300, 70_000]) {
      const event = Buffer.from(`id: 1\nevent: message\ndata: ${'x'.repeat(length)}\n\n`);
      expect((await writtenByNode(event)).equals(chunkOf(event)), `event of ${event.length} bytes`).toBe(true);
      server?.close();
    }
  });
});
