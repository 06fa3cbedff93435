/**
 * Fuzzing a running gateway with hostile clients (fast-check, bounded in time):
 * - raw HTTP requests over TCP (random methods, paths with `..`/`%00`/long runs, odd and repeated
 *   headers, bad Content-Length, chunked garbage, huge header values, random bodies): every answer
 *   has a status, and every 4xx/5xx carries a JSON body with a stable `code` (or one of the two
 *   exact 404 texts);
 * - random WebSocket frames after a real upgrade (any opcode, RSV bits, unmasked, fragmented,
 *   oversized, invalid UTF-8, close frames with bad codes): the connection is closed with a valid
 *   close code, or stays healthy (answers a ping);
 * and afterwards the gateway still serves and its heap grew by a bounded amount.
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../runtime/gateway.ts';
import { NO_CONTEXT_PATH, NO_ENTRYPOINT } from '../../core/errors.ts';
import { gatewayWith } from '../support/harness.ts';
import { keyless, makeBundle } from '../support/bundles.ts';
import { newApiKey } from '../plans/fixtures.ts';
import { rawConnect, type RawAnswer } from './raw-http.ts';
import { clientFrame, encodeFrame, isValidCloseCode, rawWebSocket, type RawFrame } from './ws-frames.ts';

const key = newApiKey();
let gateway: Gateway;
let baseline: NodeJS.MemoryUsage;

beforeAll(async () => {
  const streams = [{ type: 'http-get', messagesLimitDurationMs: 200 }, { type: 'websocket' }, { type: 'sse', heartbeatIntervalInMs: 2000 }];
  gateway = await gatewayWith(makeBundle({
    qs: { definition: { entrypoints: streams as never }, plans: keyless },
    keyed: {
      definition: { entrypoints: [...streams, { type: 'http-post', maxBodyBytes: 4096 }] as never },
      plans: { gold: { type: 'api-key', name: 'Gold', status: 'published' } },
      subscriptions: { acme: { plan: 'gold', apiKeys: [{ hash: key.hash }] } },
    },
    post: { definition: { entrypoints: [{ type: 'http-post', maxBodyBytes: 4096 }] }, plans: keyless },
  }), { authFailureLimit: { failures: 20, windowSeconds: 10 } });
  baseline = process.memoryUsage();
});
afterAll(async () => {
  await gateway?.close();
});

const token = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}$/);
const junk = fc.string({ unit: 'binary', maxLength: 40 }).map((s) => s.replace(/[\r\n]/g, ''));
const printable = fc.stringMatching(/^[ -~]{0,60}$/);
const long = fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 500, max: 12_000 }) }, { weight: 1, arbitrary: fc.integer({ min: 12_000, max: 20_000 }) }).map((n) => 'a'.repeat(n));

// Mostly requests the parser accepts (so routing, plans and entrypoints see them), some it refuses.
const method = fc.oneof({ weight: 6, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'HEAD', 'PATCH', 'TRACE') }, { weight: 1, arbitrary: token });
const path = fc.tuple(
  fc.oneof({ weight: 6, arbitrary: fc.constantFrom('/qs/', '/keyed/', '/post/', '/nowhere/', '/', '/qs') }, { weight: 1, arbitrary: fc.constantFrom('', '*', 'http://evil/qs/') }),
  fc.array(fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom('..', '%00', '%2e%2e/', '//', '?limit=1', '?limit=-5&cursor=zz', '?cursor=%ff', '?api-key=x', ';', '%', '#frag') },
    { weight: 2, arbitrary: junk.map(encodeURI) },
    { weight: 1, arbitrary: fc.constantFrom('\u00e9', '\u0000', '\t') },
    { weight: 1, arbitrary: long },
  ), { maxLength: 4 }),
).map(([base, parts]) => (base + parts.join('/')).replace(/[\s]/g, '') || '/');

const headerName = fc.oneof(
  { weight: 1, arbitrary: fc.constantFrom('Content-Length', 'Transfer-Encoding', 'Host', 'Expect', 'Upgrade', 'Connection') },
  { weight: 5, arbitrary: fc.constantFrom('X-Api-Key', 'Accept', 'Origin', 'Forwarded', 'X-Forwarded-For', 'Last-Event-ID', 'Authorization',
    'Content-Type', 'X-Request-Id', 'Access-Control-Request-Method', 'Access-Control-Request-Headers') },
  { weight: 2, arbitrary: token },
);
const headerValue = fc.oneof(
  { weight: 1, arbitrary: junk }, { weight: 1, arbitrary: long }, { weight: 4, arbitrary: printable }, { weight: 6, arbitrary: fc.constantFrom('text/event-stream', 'application/json', '*/*', 'chunked', 'gzip, chunked', 'websocket', 'close', '100-continue',
    '-1', '99999999999999999999', '0x10', '1, 2', key.key, 'Bearer x.y.z', 'for=1.2.3.4', 'text/plain;q=0', 'application/xml', 'text/plain') },
  { weight: 1, arbitrary: fc.nat().map(String) },
);
const body = fc.oneof(fc.uint8Array({ maxLength: 2048 }).map((b) => Buffer.from(b)), fc.constant(Buffer.alloc(0)));
const framing = fc.oneof({ weight: 6, arbitrary: fc.constantFrom('none', 'exact', 'chunked') }, { weight: 1, arbitrary: fc.constantFrom('short', 'long', 'chunked-garbage') });

const request = fc.record({ method, path, headers: fc.array(fc.tuple(headerName, headerValue), { maxLength: 6 }), body, framing });
type FuzzRequest = typeof request extends fc.Arbitrary<infer T> ? T : never;

function wire(r: FuzzRequest): Buffer {
  const headers = r.headers.map(([n, v]) => `${n}: ${v}\r\n`).join('');
  let framed = '';
  // Without framing the body bytes would be read as a next (pipelined) request: sent only when framed or on purpose ('short').
  let payload: Buffer = r.framing === 'none' ? Buffer.alloc(0) : r.body;
  if (r.framing === 'exact') framed = `Content-Length: ${r.body.length}\r\n`;
  if (r.framing === 'short') framed = `Content-Length: ${Math.max(0, r.body.length - 7)}\r\n`;
  if (r.framing === 'long') framed = `Content-Length: ${r.body.length + 50_000_000}\r\n`;
  if (r.framing.startsWith('chunked')) {
    framed = 'Transfer-Encoding: chunked\r\n';
    payload = r.framing === 'chunked'
      ? Buffer.concat([Buffer.from(`${r.body.length.toString(16)}\r\n`), r.body, Buffer.from('\r\n0\r\n\r\n')])
      : Buffer.concat([Buffer.from('zz;\r\n'), r.body]);
  }
  return Buffer.concat([Buffer.from(`${r.method} ${r.path} HTTP/1.1\r\nHost: gateway\r\n${framed}${headers}\r\n`, 'latin1'), payload]);
}

/** What every answer must look like. */
function checkAnswer(answer: RawAnswer, head: boolean): void {
  expect(answer.status, `a status line (got ${JSON.stringify(answer)})`).toBeGreaterThanOrEqual(100);
  expect(answer.status).toBeLessThan(600);
  if (answer.status < 400 || head) return;
  if (answer.body === NO_CONTEXT_PATH || answer.body === NO_ENTRYPOINT) return;
  let parsed: { code?: unknown };
  try {
    parsed = JSON.parse(answer.body) as { code?: unknown };
  } catch {
    throw new Error(`${answer.status} without a JSON body: ${JSON.stringify(answer.body.slice(0, 200))}`);
  }
  expect(parsed.code, `a stable code in ${answer.body.slice(0, 200)}`).toMatch(/^[A-Z][A-Z0-9_]+$/);
}

/** Sends `bytes`, then collects answers until the server closes, 300 ms pass without any, or 1.5 s in all. */
async function exchange(bytes: Buffer): Promise<RawAnswer[]> {
  const connection = await rawConnect(gateway.port);
  await connection.write(bytes);
  const deadline = Date.now() + 1_500;
  let seen = -1;
  let quietSince = Date.now();
  while (Date.now() < deadline) {
    const ended = await Promise.race([connection.ended.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 50))]);
    if (ended) break;
    if (connection.answers.length !== seen) {
      seen = connection.answers.length;
      quietSince = Date.now();
    } else if (Date.now() - quietSince > 300) break;
  }
  connection.socket.destroy();
  return connection.answers;
}

const frame: fc.Arbitrary<RawFrame> = fc.record({
  fin: fc.boolean(),
  rsv: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 7 }) }),
  opcode: fc.oneof(fc.constantFrom(0, 1, 2, 8, 9, 10), fc.integer({ min: 0, max: 15 })),
  mask: fc.oneof({ weight: 5, arbitrary: fc.uint8Array({ minLength: 4, maxLength: 4 }).map((b) => Buffer.from(b)) }, { weight: 1, arbitrary: fc.constant(null) }),
  payload: fc.oneof(
    fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
    fc.constantFrom(Buffer.from([0xff, 0xfe]), Buffer.from([0xc3]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('ok')),
    fc.tuple(fc.integer({ min: 0, max: 65535 }), junk).map(([code, reason]) => Buffer.concat([Buffer.from([code >> 8, code & 255]), Buffer.from(reason)])),
  ),
  declaredLength: fc.option(fc.constantFrom(126, 70_000, 2 ** 33, 2 ** 53 - 1), { nil: undefined, freq: 6 }),
}, { requiredKeys: ['fin', 'rsv', 'opcode', 'mask', 'payload'] });

describe('fuzzing a running gateway', () => {
  it('random raw HTTP requests: always a status, every error a coded JSON body (or the exact 404 text)', async () => {
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const answers = await exchange(wire(r));
        for (const answer of answers) checkAnswer(answer, r.method === 'HEAD');
      }),
      { numRuns: 150, interruptAfterTimeLimit: 14_000, markInterruptAsFailure: false, endOnFailure: true },
    );
  }, 30_000);

  it('random WebSocket frames after an upgrade: closed with a valid close code, or still answering pings', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(frame, { minLength: 1, maxLength: 4 }), async (frames) => {
        const ws = await rawWebSocket(gateway.port, '/qs/');
        for (const f of frames) ws.socket.write(encodeFrame(f));
        const incomplete = frames.some((f) => f.declaredLength !== undefined && f.declaredLength > f.payload.length);
        const probe = randomBytes(8);
        ws.socket.write(clientFrame(9, probe));
        const deadline = Date.now() + 1_000;
        while (Date.now() < deadline && !ws.isEnded() && !ws.opcodes.includes(10)) await new Promise((r) => setTimeout(r, 20));
        const code = ws.closeCode();
        ws.socket.destroy();
        if (code !== undefined) {
          expect(isValidCloseCode(code), `close code ${code}`).toBe(true);
        } else if (!ws.opcodes.includes(10)) {
          // No close frame and no pong: only acceptable while a declared frame is still incomplete.
          expect(ws.isEnded(), 'the connection ended without a close frame').toBe(false);
          expect(incomplete, 'an open connection that stopped answering pings').toBe(true);
        }
      }),
      { numRuns: 80, interruptAfterTimeLimit: 10_000, markInterruptAsFailure: false, endOnFailure: true },
    );
  }, 30_000);

  it('afterwards the gateway still serves and memory grew by a bounded amount', async () => {
    const response = await fetch(`${gateway.url}/qs/?limit=1`, { headers: { accept: 'application/json' } });
    expect(response.status).toBe(200);
    expect((await response.json() as { items: unknown[] }).items).toHaveLength(1);
    const published = await fetch(`${gateway.url}/keyed/`, { method: 'POST', headers: { 'x-api-key': key.key }, body: 'still here' });
    expect(published.status).toBe(202);
    const now = process.memoryUsage();
    expect(now.heapUsed - baseline.heapUsed).toBeLessThan(96 * 1024 * 1024);
    expect(now.rss - baseline.rss).toBeLessThan(256 * 1024 * 1024);
  });
});
