/**
 * Requests that were refused cost nothing more: a request that declares a body and is refused
 * before the body is read (401, 404, 413, 429, …) is answered with `Connection: close` and the
 * server closes the connection at once instead of reading (and discarding) the rest of the body.
 * A request whose body was read whole keeps its connection alive.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../runtime/gateway.ts';
import { gatewayWith } from '../support/harness.ts';
import { makeBundle, keyless } from '../support/bundles.ts';
import { newApiKey } from '../plans/fixtures.ts';
import { rawConnect, type RawConnection } from './raw-http.ts';

const key = newApiKey();
const FIFTY_MB = 50 * 1024 * 1024;

let gateway: Gateway;
let port: number;
beforeAll(async () => {
  gateway = await gatewayWith(makeBundle({
    keyed: {
      definition: { entrypoints: [{ type: 'http-post', maxBodyBytes: 64 * 1024 }, { type: 'http-get' }] },
      plans: { gold: { type: 'api-key', name: 'Gold', status: 'published' } },
      subscriptions: { acme: { plan: 'gold', apiKeys: [{ hash: key.hash }] } },
    },
    open: { definition: { entrypoints: [{ type: 'http-get' }] }, plans: keyless },
  }));
  port = gateway.port;
});
afterAll(() => gateway?.close());

const head = (method: string, path: string, headers: Record<string, string>) =>
  `${method} ${path} HTTP/1.1\r\nHost: gateway\r\n${Object.entries(headers).map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`;

/**
 * After the refusal, keeps writing 64 KiB chunks until the socket fails: the server is gone, so
 * far less than the declared body can be written (loopback socket buffers hold a few MiB).
 */
async function writeUntilRefused(connection: RawConnection): Promise<number> {
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  let written = 0;
  const deadline = Date.now() + 5_000;
  while (written < FIFTY_MB && Date.now() < deadline) {
    if (!(await Promise.race([connection.write(chunk), new Promise<boolean>((r) => setTimeout(() => r(false), 1_000))]))) break;
    written += chunk.length;
  }
  return written;
}

/** Sends a head declaring a 50 MB body and 1 KiB of it; expects `status`, Connection: close, and the socket closed by the server. */
async function refusedMidBody(path: string, headers: Record<string, string>, status: number, code: string | null) {
  const connection = await rawConnect(port);
  const sent = Date.now();
  const chunked = headers['Transfer-Encoding'] === 'chunked';
  await connection.write(head('POST', path, { 'Content-Type': 'application/octet-stream', ...headers }) + (chunked ? `400\r\n${'x'.repeat(1024)}\r\n` : 'x'.repeat(1024)));
  const answer = await connection.answer(0, 5_000);
  expect(answer.status).toBe(status);
  expect(answer.headers.connection).toBe('close');
  if (code) expect(JSON.parse(answer.body)).toMatchObject({ code, status });
  const endedAt = await Promise.race([connection.ended, new Promise<number>((_, fail) => setTimeout(() => fail(new Error('the server kept the connection open')), 3_000))]);
  expect(endedAt - sent).toBeLessThan(3_000);
  const written = await writeUntilRefused(connection);
  expect(written).toBeLessThan(16 * 1024 * 1024);
  connection.socket.destroy();
  return answer;
}

describe('a refused request with an unread body closes its connection', () => {
  it('401 (bad API key) on a POST declaring 50 MB: Connection: close, socket closed, the rest never read', async () => {
    await refusedMidBody('/keyed/', { 'Content-Length': String(FIFTY_MB), 'X-Api-Key': 'wrong' }, 401, 'API_KEY_INVALID');
  });

  it('401 on a chunked POST, 404 on an unknown path, 413 on a declared length over the limit', async () => {
    await refusedMidBody('/keyed/', { 'Transfer-Encoding': 'chunked', 'X-Api-Key': 'wrong' }, 401, 'API_KEY_INVALID');
    await refusedMidBody('/nowhere/', { 'Content-Length': String(FIFTY_MB) }, 404, null);
    await refusedMidBody('/keyed/', { 'Content-Length': String(FIFTY_MB), 'X-Api-Key': key.key }, 413, 'PAYLOAD_TOO_LARGE');
  });

  it('a GET declaring a body it never reads gets Connection: close too', async () => {
    const connection = await rawConnect(port);
    await connection.write(head('GET', '/open/?limit=1', { Accept: 'application/json', 'Content-Length': String(FIFTY_MB) }) + 'x'.repeat(1024));
    const answer = await connection.answer(0, 5_000);
    expect(answer.status).toBe(200);
    expect(answer.headers.connection).toBe('close');
    await Promise.race([connection.ended, new Promise((_, fail) => setTimeout(() => fail(new Error('the server kept the connection open')), 3_000))]);
    connection.socket.destroy();
  });

  it('Expect: 100-continue: a refused request never gets the 100 (nor sends its body); an admitted one gets it, then 202', async () => {
    const refused = await rawConnect(port);
    await refused.write(head('POST', '/keyed/', { 'X-Api-Key': 'wrong', 'Content-Length': '5', Expect: '100-continue' }));
    const answer = await refused.answer(0, 5_000);
    expect(answer.status).toBe(401);
    expect(answer.headers.connection).toBe('close');
    refused.socket.destroy();

    const admitted = await rawConnect(port);
    await admitted.write(head('POST', '/keyed/', { 'X-Api-Key': key.key, 'Content-Length': '5', Expect: '100-continue' }));
    expect((await admitted.answer(0, 5_000)).status).toBe(100);
    await admitted.write('hello');
    expect((await admitted.answer(1, 5_000)).status).toBe(202);
    admitted.socket.destroy();

    const odd = await rawConnect(port);
    await odd.write(head('POST', '/keyed/', { 'X-Api-Key': key.key, 'Content-Length': '5', Expect: 'teapot' }));
    const refusedExpectation = await odd.answer(0, 5_000);
    expect(refusedExpectation.status).toBe(417);
    expect(JSON.parse(refusedExpectation.body)).toMatchObject({ code: 'EXPECTATION_FAILED' });
    odd.socket.destroy();
  });

  it('a publish whose body was read whole keeps the connection alive', async () => {
    const connection = await rawConnect(port);
    const publish = head('POST', '/keyed/', { 'X-Api-Key': key.key, 'Content-Length': '5' }) + 'hello';
    await connection.write(publish);
    expect((await connection.answer(0, 5_000)).status).toBe(202);
    await connection.write(publish);
    const second = await connection.answer(1, 5_000);
    expect(second.status).toBe(202);
    expect(second.headers.connection).not.toBe('close');
    connection.socket.destroy();
  });
});
