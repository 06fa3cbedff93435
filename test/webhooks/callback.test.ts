/**
 * The webhook delivery engine without a broker: the callback client against real local servers
 * (headers, auth, redirects, time-outs, bounded bodies, refused connections), the backoff
 * schedule, retries until delivered or exhausted, and allowed callback hosts.
 */
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createCallback, WebhookConfigError, type Callback, type CallbackResult } from '../../runtime/entrypoints/webhook/callback.ts';
import { backoffDelay, deliverWithRetries, retryPolicy } from '../../runtime/entrypoints/webhook/attempts.ts';
import { hostAllowed, parseAllowedHosts } from '../../runtime/entrypoints/webhook/allowed-hosts.ts';
import { message } from '../../core/message.ts';
import { startCallbackServer, type CallbackServer } from './callback-server.ts';

const noSecrets = { resolveSecret: () => { throw new Error('no secret expected'); }, concurrency: 1 };
const never = new AbortController().signal;
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function server(answer?: Parameters<typeof startCallbackServer>[0]): Promise<CallbackServer> {
  const started = await startCallbackServer(answer);
  cleanups.push(() => started.close());
  return started;
}

function callback(config: Parameters<typeof createCallback>[0], options: Partial<Parameters<typeof createCallback>[1]> = {}): Callback {
  const created = createCallback(config, { ...noSecrets, ...options });
  cleanups.push(() => created.close());
  return created;
}

async function rawServer(handler: http.RequestListener): Promise<string> {
  const raw = http.createServer(handler);
  await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => {
    raw.closeAllConnections();
    raw.close(() => resolve());
  }));
  return `http://127.0.0.1:${(raw.address() as AddressInfo).port}/hook`;
}

describe('callback client', () => {
  it('POSTs the content with message headers, then static headers, then auth', async () => {
    const target = await server();
    const client = callback(
      {
        callbackUrl: `${target.url}?token=abc`,
        headers: [{ name: 'X-Static', value: 'static' }, { name: 'X-Both', value: 'from-subscription' }],
        auth: { type: 'bearer', token: { env: 'HOOK_TOKEN' } },
      },
      { resolveSecret: (ref) => ('env' in ref && ref.env === 'HOOK_TOKEN' ? 's3cret' : '') },
    );
    expect(client.target).toBe(target.url);
    const result = await client.post(
      message({ id: '1', content: Buffer.from('{"n":1}'), headers: { 'x-both': 'from-message', 'x-message': 'm', 'content-length': '999', host: 'evil', 'bad header': 'x' } }),
      never,
    );
    expect(result).toEqual({ status: 200 });
    const [request] = target.received;
    expect(request!.method).toBe('POST');
    expect(request!.path).toBe('/hook?token=abc');
    expect(request!.body).toBe('{"n":1}');
    expect(request!.headers['x-message']).toBe('m');
    expect(request!.headers['x-static']).toBe('static');
    expect(request!.headers['x-both']).toBe('from-subscription');
    expect(request!.headers.authorization).toBe('Bearer s3cret');
    expect(request!.headers['content-type']).toBe('application/octet-stream');
    expect(request!.headers['content-length']).toBe('7');
    expect(request!.headers.host).toBe(`127.0.0.1:${target.port}`);
  });

  it('sends basic auth and keeps a message content type', async () => {
    const target = await server();
    const client = callback(
      { callbackUrl: target.url, auth: { type: 'basic', username: 'app', password: { env: 'P' } } },
      { resolveSecret: () => 'pw:1' },
    );
    await client.post(message({ id: '1', content: Buffer.from('x'), headers: { 'content-type': 'application/json' } }), never);
    expect(target.received[0]!.headers.authorization).toBe(`Basic ${Buffer.from('app:pw:1').toString('base64')}`);
    expect(target.received[0]!.headers['content-type']).toBe('application/json');
  });

  it('does not follow redirects: a 302 is the answer', async () => {
    let followed = 0;
    const elsewhere = await rawServer((_req, res) => {
      followed++;
      res.end();
    });
    const url = await rawServer((_req, res) => res.writeHead(302, { location: elsewhere }).end());
    const result = await callback({ callbackUrl: url }).post(message({ id: '1', content: Buffer.from('x') }), never);
    expect(result).toEqual({ status: 302 });
    expect(followed).toBe(0);
  });

  it('times out reading an answer that never comes', async () => {
    const url = await rawServer(() => undefined);
    const started = Date.now();
    const result = await callback({ callbackUrl: url, readTimeoutMs: 300 }).post(message({ id: '1', content: Buffer.from('x') }), never);
    expect(result).toMatchObject({ code: 'READ_TIMEOUT' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('times out connecting (a TLS handshake that never completes counts as connecting)', async () => {
    const silent = net.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const sockets = new Set<net.Socket>();
    silent.on('connection', (socket) => sockets.add(socket));
    cleanups.push(() => new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      silent.close(() => resolve());
    }));
    const url = `https://127.0.0.1:${(silent.address() as AddressInfo).port}/hook`;
    const result = await callback({ callbackUrl: url, connectTimeoutMs: 300, readTimeoutMs: 60_000 }).post(message({ id: '1', content: Buffer.from('x') }), never);
    expect(result).toMatchObject({ code: 'CONNECT_TIMEOUT' });
  });

  it('reads a huge answer only up to its bound, and keeps the status', async () => {
    const url = await rawServer((_req, res) => {
      res.writeHead(200);
      const chunk = Buffer.alloc(64 * 1024, 'a');
      let sent = 0;
      const pump = () => {
        while (sent < 1024 && res.write(chunk)) sent++;
        if (sent < 1024) res.once('drain', pump);
        else res.end();
      };
      res.on('error', () => undefined);
      pump();
    });
    const result = await callback({ callbackUrl: url, readTimeoutMs: 5_000 }).post(message({ id: '1', content: Buffer.from('x') }), never);
    expect(result).toEqual({ status: 200 });
  });

  it('reports a refused connection and an abort', async () => {
    const closed = await rawServer(() => undefined);
    const port = new URL(closed).port;
    await cleanups.pop()!(); // close that server: the port refuses now
    const refused = await callback({ callbackUrl: `http://127.0.0.1:${port}/x` }).post(message({ id: '1', content: Buffer.from('x') }), never);
    expect(refused).toMatchObject({ code: 'CONNECTION_FAILED' });
    expect((refused as { error: string }).error).toContain('ECONNREFUSED');

    const hanging = await rawServer(() => undefined);
    const abort = new AbortController();
    const pending = callback({ callbackUrl: hanging }).post(message({ id: '1', content: Buffer.from('x') }), abort.signal);
    setTimeout(() => abort.abort(), 50);
    expect(await pending).toMatchObject({ code: 'ABORTED' });
  });

  it('refuses credentials in the URL, bad static headers, and hosts not allowed', () => {
    const build = (config: Parameters<typeof createCallback>[0], allowed?: string) => () =>
      createCallback(config, { ...noSecrets, ...(allowed ? { allowedHosts: parseAllowedHosts(allowed) } : {}) }).close();
    expect(build({ callbackUrl: 'http://user:pw@example.com/' })).toThrow(WebhookConfigError);
    expect(build({ callbackUrl: 'ftp://example.com/' })).toThrow(/http or https/);
    expect(build({ callbackUrl: 'http://example.com/', headers: [{ name: 'Content-Length', value: '1' }] })).toThrow(/cannot be set/);
    expect(build({ callbackUrl: 'http://example.com/', headers: [{ name: 'X-A', value: 'a\nb' }] })).toThrow(/not a valid HTTP header/);
    expect(build({ callbackUrl: 'http://evil.test/' }, 'example.com')).toThrow(expect.objectContaining({ code: 'CALLBACK_HOST_NOT_ALLOWED' }));
    expect(build({ callbackUrl: 'http://api.example.com/' }, '*.example.com')).not.toThrow();
  });
});

describe('allowed hosts', () => {
  it('matches host names, ports and subdomain wildcards', () => {
    const allowed = parseAllowedHosts('Example.com, *.hooks.test ,127.0.0.1:8443,[::1]');
    const ok = (url: string) => hostAllowed(new URL(url), allowed);
    expect(ok('https://example.com/x')).toBe(true);
    expect(ok('http://EXAMPLE.com:9000/x')).toBe(true);
    expect(ok('http://example.com.evil.test/')).toBe(false);
    expect(ok('http://a.hooks.test/')).toBe(true);
    expect(ok('http://hooks.test/')).toBe(false);
    expect(ok('https://127.0.0.1:8443/')).toBe(true);
    expect(ok('http://127.0.0.1:8080/')).toBe(false);
    expect(ok('http://[::1]:1234/')).toBe(true);
    expect(hostAllowed(new URL('http://anything/'), undefined)).toBe(true);
    expect(() => parseAllowedHosts('http://x/')).toThrow();
    expect(() => parseAllowedHosts(' , ')).toThrow();
  });
});

describe('retries', () => {
  it('treats time-outs longer than a node timer can wait (24.8 days) as long, not as instant', async () => {
    const url = await rawServer((_req, res) => void setTimeout(() => res.end('ok'), 200));
    const result = await callback({ callbackUrl: url, readTimeoutMs: 3_000_000_000, connectTimeoutMs: 3_000_000_000 }).post(message({ id: '1', content: Buffer.from('x') }), never);
    expect(result).toMatchObject({ status: 200 });
    const huge = retryPolicy({ strategy: 'exponential', initialDelayMs: 3_000_000_000, maxDelayMs: 4_000_000_000 });
    expect(backoffDelay(huge, 1)).toBeLessThanOrEqual(2 ** 31 - 1);
    expect(backoffDelay(huge, 1)).toBeGreaterThan(24 * 24 * 3600 * 1000);
  });

  it('computes linear, exponential and capped delays, honouring Retry-After', () => {
    const linear = retryPolicy({ strategy: 'linear', initialDelayMs: 100, maxDelayMs: 250 });
    expect([1, 2, 3].map((n) => backoffDelay(linear, n))).toEqual([100, 200, 250]);
    const exponential = retryPolicy({ initialDelayMs: 100, maxDelayMs: 1_000 });
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(exponential, n))).toEqual([100, 200, 400, 800, 1_000]);
    expect(backoffDelay(exponential, 1, 700)).toBe(700);
    expect(backoffDelay(exponential, 1, 60_000)).toBe(1_000);
    expect(retryPolicy({ strategy: 'none', maxAttempts: 5 }).maxAttempts).toBe(1);
    expect(retryPolicy(undefined)).toEqual({ strategy: 'exponential', maxAttempts: 10, initialDelayMs: 1_000, maxDelayMs: 30_000 });
  });

  it('retries 5xx, 429 and connection errors until delivered; refuses 4xx at once; gives up when out of attempts', async () => {
    const policy = retryPolicy({ strategy: 'linear', maxAttempts: 4, initialDelayMs: 1, maxDelayMs: 5 });
    const control = (retries: unknown[]) => ({ yielding: never, abort: never, onRetry: (failure: unknown) => retries.push(failure) });
    const answers = (list: CallbackResult[]) => {
      let i = 0;
      return async () => list[Math.min(i++, list.length - 1)]!;
    };
    const retries: unknown[] = [];
    const delivered = await deliverWithRetries(answers([{ status: 503 }, { code: 'CONNECTION_FAILED', error: 'ECONNRESET' }, { status: 429 }, { status: 204 }]), policy, control(retries));
    expect(delivered).toEqual({ kind: 'delivered', status: 204, attempts: 4 });
    expect(retries).toHaveLength(3);

    const refused = await deliverWithRetries(answers([{ status: 503 }, { status: 400 }]), policy, control([]));
    expect(refused).toMatchObject({ kind: 'refused', attempts: 2, failure: { status: 400 } });

    const exhausted = await deliverWithRetries(answers([{ status: 500 }]), policy, control([]));
    expect(exhausted).toMatchObject({ kind: 'exhausted', attempts: 4, failure: { status: 500 } });
  });

  it('gives the message back when yielding, without another attempt', async () => {
    const yielding = new AbortController();
    let attempts = 0;
    const pending = deliverWithRetries(
      async () => {
        attempts++;
        return { status: 503 };
      },
      retryPolicy({ strategy: 'linear', initialDelayMs: 60_000, maxDelayMs: 60_000 }),
      { yielding: yielding.signal, abort: never, onRetry: () => yielding.abort() },
    );
    expect(await pending).toEqual({ kind: 'given-back', attempts: 1 });
    expect(attempts).toBe(1);
  });
});
