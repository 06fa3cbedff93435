/**
 * A real node:http callback server on port 0 for webhook tests: records every request (body,
 * headers, arrival order) and answers with what `answer` decides (default 200).
 */
import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  readonly body: string;
  readonly headers: IncomingHttpHeaders;
  readonly method: string;
  readonly path: string;
  /** The status this request was answered with. */
  readonly status: number;
}

export type Answer = (request: { body: string; headers: IncomingHttpHeaders; index: number }) => number | Promise<number>;

export interface CallbackServer {
  readonly url: string;
  readonly port: number;
  /** Every request in arrival order. */
  readonly received: Received[];
  /** Bodies of the requests answered 2xx, in arrival order. */
  delivered(): string[];
  answer: Answer;
  /** Resolves once `count` requests were answered 2xx; rejects after `ms` naming what is missing. */
  waitForDelivered(count: number, ms: number): Promise<void>;
  close(): Promise<void>;
}

export async function startCallbackServer(answer: Answer = () => 200): Promise<CallbackServer> {
  const received: Received[] = [];
  const waiters = new Set<() => void>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let status = 500;
      try {
        status = await self.answer({ body, headers: req.headers, index: received.length });
      } catch {
        status = 500;
      }
      received.push({ body, headers: req.headers, method: req.method ?? '', path: req.url ?? '', status });
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'no');
      for (const waiter of [...waiters]) waiter();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const delivered = () => received.filter((r) => r.status >= 200 && r.status < 300).map((r) => r.body);
  const self: CallbackServer = {
    url: `http://127.0.0.1:${port}/hook`,
    port,
    received,
    delivered,
    answer,
    waitForDelivered(count, ms) {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (delivered().length >= count) {
            cleanup();
            resolve();
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out after ${ms} ms: ${delivered().length} of ${count} messages delivered (${received.length} requests)`));
        }, ms);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return self;
}
