/**
 * Runtime test harness: a gateway on port 0, WebSocket clients that record what they get, and
 * bounded waits that fail with a clear message.
 */
import WebSocket from 'ws';
import { startGateway, type Gateway, type GatewayOptions } from '../../runtime/gateway.ts';
import { setLogLevel } from '../../runtime/log.ts';

setLogLevel(process.env.TEST_LOG_LEVEL ?? 'silent');

export async function gatewayWith(bundle: unknown, options: GatewayOptions = {}): Promise<Gateway> {
  const gateway = await startGateway({ port: 0, adminPort: 0, shutdownGraceMs: 2000, ...options });
  if (bundle !== undefined) {
    const result = await gateway.deploy(bundle);
    if (!result.deployed) throw new Error(`test bundle did not deploy: ${result.error}`);
  }
  return gateway;
}

export const wsUrl = (gateway: Gateway, path: string) => `${gateway.url.replace(/^http/, 'ws')}${path}`;

/** Polls `condition` every 10 ms until true, or fails after `ms` with `what`. */
export async function waitFor(condition: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export interface Client {
  readonly ws: WebSocket;
  readonly messages: { data: Buffer; binary: boolean }[];
  readonly texts: () => string[];
  /** Resolves with the close code and reason. */
  readonly closed: Promise<{ code: number; reason: string }>;
  /** Resolves once open, rejects with the HTTP status of a refused handshake. */
  readonly opened: Promise<void>;
}

export class HandshakeRefused extends Error {
  constructor(readonly status: number, readonly body: string, readonly headers: Record<string, string | string[] | undefined>) {
    super(`handshake refused with HTTP ${status}: ${body}`);
  }
}

export function connect(url: string, options: WebSocket.ClientOptions = {}): Client {
  const ws = new WebSocket(url, options);
  const messages: Client['messages'] = [];
  ws.on('message', (data, binary) => messages.push({ data: data as Buffer, binary }));
  ws.on('error', () => undefined);
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk));
      res.on('end', () => reject(new HandshakeRefused(res.statusCode ?? 0, body, res.headers)));
      res.on('error', () => reject(new HandshakeRefused(res.statusCode ?? 0, body, res.headers)));
    });
    ws.once('error', (error) => reject(error));
  });
  opened.catch(() => undefined);
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })));
  return { ws, messages, texts: () => messages.map((m) => m.data.toString('utf8')), closed, opened };
}

/** Rejects after `ms` with `what` unless `promise` settles first. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms))),
  ]);
}

/** The gateway's admin `/readyz?strict=1`: its status and body (which names an unhealthy endpoint). */
export async function strictReadyz(gateway: Gateway): Promise<{ status: number; body: string }> {
  const res = await fetch(`${gateway.adminUrl}/readyz?strict=1`);
  return { status: res.status, body: await res.text() };
}

/** Waits until `/readyz?strict=1` answers 200 (a broker came back), at most about 30 s; throws with its last body. */
export async function untilReady(gateway: Gateway): Promise<void> {
  for (let i = 0; (await strictReadyz(gateway)).status !== 200; i++) {
    if (i > 120) throw new Error(`gateway not ready again: ${(await strictReadyz(gateway)).body}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
