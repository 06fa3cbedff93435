/**
 * A long SSE stream over a subscription of its own (a client resuming from a cursor, or the mock)
 * holds memory bounded by its buffers, not by the number of messages it delivered: nothing may be
 * attached per message to anything that lives as long as the connection.
 */
import { createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, expect, it } from 'vitest';
import { createSseEntrypoint } from '../../runtime/entrypoints/sse.ts';
import type { HttpContext } from '../../runtime/entrypoints/entrypoint.ts';
import { Delivery } from '../../runtime/subscribe/delivery.ts';
import { message } from '../../core/message.ts';
import { Connections } from '../../runtime/connections.ts';
import { noMeters } from '../../runtime/metrics/telemetry.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const heapAfterGc = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};

const MESSAGES = 200_000;
let server: Server | undefined;
afterAll(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

it(`an SSE stream of its own keeps its heap flat over ${MESSAGES} messages`, { timeout: 60_000 }, async () => {
  const entrypoint = createSseEntrypoint({ type: 'sse' }, {} as never);
  const content = Buffer.from('x');
  const stop = new AbortController();
  let release: () => void = () => {};
  const drained = new Promise<void>((resolve) => (release = resolve));
  async function* source(): AsyncGenerator<Delivery> {
    for (let i = 0; i < MESSAGES; i++) {
      yield new Delivery(message({ id: String(i), content }));
    }
    release();
    await new Promise<void>((resolve) => stop.signal.addEventListener('abort', () => resolve(), { once: true }));
  }
  const exchange = { id: 'memory', subscribeEndpoint: { resumable: true }, subscribe: () => source(), cursorRefusal: async () => undefined };
  const connection = new Connections('memory', noMeters).open('sse', { planKey: 'open', planType: 'keyless', rateKey: 'addr:test' });
  server = createServer((req, res) => {
    const context = { exchange, caller: {}, url: new URL(req.url!, 'http://x'), req, res, connection, log: {}, detach: () => {}, ended: () => {} };
    void entrypoint.handle!(context as unknown as HttpContext);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;

  let received = 0;
  let baseline = 0;
  let baselineTaken = false;
  const response = await new Promise<import('node:http').IncomingMessage>((resolve) => get({ port, host: '127.0.0.1', path: '/', headers: { accept: 'text/event-stream' } }, resolve));
  response.on('data', (chunk: Buffer) => {
    for (let at = chunk.indexOf('event: message'); at !== -1; at = chunk.indexOf('event: message', at + 1)) received++;
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${received} of ${MESSAGES} messages within 50 s`)), 50_000);
    const check = setInterval(() => {
      if (!baselineTaken && received >= 10_000) {
        baselineTaken = true;
        baseline = heapAfterGc();
      }
      if (received >= MESSAGES) {
        clearInterval(check);
        clearTimeout(timer);
        resolve();
      }
    }, 20);
  });
  await drained;
  // The connection is still open: whatever the stream attached per message is still reachable.
  const grown = heapAfterGc() - baseline;
  stop.abort();
  connection.abort(new Error('test over'));
  response.destroy();
  expect(grown, `heap grew ${(grown / 1e6).toFixed(1)} MB over ${MESSAGES - 10_000} messages`).toBeLessThan(10e6);
});
