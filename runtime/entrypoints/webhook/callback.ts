/**
 * The callback client of one webhook subscription: configured once (URL, static headers, auth
 * with secrets resolved, time-outs, allowed hosts), then `post` per message.
 *
 * One attempt = `POST callbackUrl`, body = the message content, headers = the message's headers
 * (minus those that describe the connection or the body framing), then the subscription's static
 * headers (same name: the static one wins), then `Authorization` from `auth`. Content-Type
 * defaults to application/octet-stream. Redirects are never followed (a 3xx is an answer like any
 * other). Connect time-out (DNS, TCP and TLS) and read time-out (from connected to the end of the
 * answer) are the subscription's; the answer's body is read up to RESPONSE_LIMIT bytes and
 * discarded. Keep-alive sockets, at most `concurrency` per subscription.
 *
 * `post` never rejects: it resolves with the HTTP status, or with why there is none.
 */
import http, { type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { SecretRef, WebhookSubscription } from '../../../schemas/types.ts';
import type { Message } from '../../../core/message.ts';
import { hostAllowed, type AllowedHost } from './allowed-hosts.ts';
import { MAX_TIMER_MS } from './window.ts';

/** Bytes of a callback's answer read before the rest is cut off (the body is discarded anyway). */
export const RESPONSE_LIMIT = 64 * 1024;
const IDLE_SOCKET_MS = 15_000;

/** Headers a message must not set: they describe this connection or the body's framing. */
const FRAMING = new Set([
  'host', 'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'te', 'trailer',
  'expect', 'proxy-authorization', 'proxy-connection',
]);

export type CallbackResult =
  | { readonly status: number; readonly retryAfterMs?: number }
  | { readonly status?: undefined; readonly code: 'CONNECT_TIMEOUT' | 'READ_TIMEOUT' | 'CONNECTION_FAILED' | 'ABORTED'; readonly error: string };

export interface Callback {
  /** The callback's origin and path (no query, no credentials), for logs and /status. */
  readonly target: string;
  /** One attempt. `signal` aborts it (resolves with code ABORTED). */
  post(message: Message, signal: AbortSignal): Promise<CallbackResult>;
  /** Closes the kept-alive sockets. */
  close(): void;
}

/** A subscription that cannot start as configured; `code` is stable. */
export class WebhookConfigError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = 'WebhookConfigError';
  }
}

export interface CallbackOptions {
  resolveSecret(ref: SecretRef): string;
  /** `--webhook-allowed-hosts`; undefined: any host. */
  readonly allowedHosts?: readonly AllowedHost[];
  readonly concurrency: number;
}

/** Configures the client; throws WebhookConfigError (or the SecretError of a missing secret). */
export function createCallback(webhook: WebhookSubscription, options: CallbackOptions): Callback {
  let url: URL;
  try {
    url = new URL(webhook.callbackUrl);
  } catch {
    throw new WebhookConfigError('CALLBACK_URL_INVALID', 'callbackUrl is not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new WebhookConfigError('CALLBACK_URL_INVALID', 'callbackUrl must be http or https');
  if (url.username || url.password) throw new WebhookConfigError('CALLBACK_URL_INVALID', 'callbackUrl must not carry credentials: use "auth" with a secret reference');
  const target = `${url.origin}${url.pathname}`;
  if (!hostAllowed(url, options.allowedHosts)) {
    throw new WebhookConfigError('CALLBACK_HOST_NOT_ALLOWED', `callback host ${url.host} is not in --webhook-allowed-hosts`);
  }
  const fixed: [string, string][] = [];
  for (const { name, value } of webhook.headers ?? []) {
    try {
      http.validateHeaderName(name);
      http.validateHeaderValue(name, value);
    } catch {
      throw new WebhookConfigError('CALLBACK_HEADER_INVALID', `static header "${name}" is not a valid HTTP header`);
    }
    if (FRAMING.has(name.toLowerCase())) throw new WebhookConfigError('CALLBACK_HEADER_INVALID', `static header "${name}" cannot be set`);
    fixed.push([name.toLowerCase(), value]);
  }
  const authorization = authorizationOf(webhook.auth, options.resolveSecret);
  // A node timer waits at most 2^31-1 ms (longer fires at once): ~24.8 days is as good as forever here.
  const connectTimeoutMs = Math.min(webhook.connectTimeoutMs ?? 3_000, MAX_TIMER_MS);
  const readTimeoutMs = Math.min(webhook.readTimeoutMs ?? 10_000, MAX_TIMER_MS);
  const secure = url.protocol === 'https:';
  const agent = secure
    ? new https.Agent({ keepAlive: true, maxSockets: options.concurrency, maxFreeSockets: options.concurrency, timeout: IDLE_SOCKET_MS })
    : new http.Agent({ keepAlive: true, maxSockets: options.concurrency, maxFreeSockets: options.concurrency, timeout: IDLE_SOCKET_MS });
  const request = secure ? https.request : http.request;

  const headersFor = (message: Message): OutgoingHttpHeaders => {
    const headers: OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(message.headers)) {
      const lower = name.toLowerCase();
      if (FRAMING.has(lower) || !validHeader(name, value)) continue;
      headers[lower] = value;
    }
    for (const [name, value] of fixed) headers[name] = value;
    headers['content-type'] ??= 'application/octet-stream';
    headers['user-agent'] ??= 'sluice-webhook';
    headers['content-length'] = String(message.content.length);
    if (authorization) headers.authorization = authorization;
    return headers;
  };

  return {
    target,
    close: () => agent.destroy(),
    post(message, signal) {
      return new Promise<CallbackResult>((resolve) => {
        let settled = false;
        let connectTimer: NodeJS.Timeout | undefined;
        let readTimer: NodeJS.Timeout | undefined;
        /** Set once the status line arrived: that is the callback's answer, however its body ends. */
        let answered: CallbackResult | undefined;
        const finish = (result: CallbackResult) => {
          if (settled) return;
          settled = true;
          clearTimeout(connectTimer);
          clearTimeout(readTimer);
          signal.removeEventListener('abort', onAbort);
          resolve(result);
        };
        if (signal.aborted) return finish({ code: 'ABORTED', error: 'stopped' });
        const req = request(url, { method: 'POST', headers: headersFor(message), agent }, (res) => {
          const status = res.statusCode ?? 0;
          const retryAfterMs = retryAfter(res.headers['retry-after']);
          const answer: CallbackResult = { status, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
          answered = answer;
          let read = 0;
          res.on('data', (chunk: Buffer) => {
            read += chunk.length;
            if (read > RESPONSE_LIMIT) {
              res.destroy();
              finish(answer);
            }
          });
          res.on('end', () => finish(answer));
          res.on('error', () => finish(answer));
          res.on('close', () => finish(answer));
        });
        const startReading = () => {
          clearTimeout(connectTimer);
          readTimer = setTimeout(() => fail('READ_TIMEOUT', `no complete answer within ${readTimeoutMs} ms`), readTimeoutMs);
        };
        const fail = (code: 'CONNECT_TIMEOUT' | 'READ_TIMEOUT' | 'CONNECTION_FAILED' | 'ABORTED', error: string) => {
          finish(answered ?? { code, error });
          req.destroy();
        };
        const onAbort = () => fail('ABORTED', 'stopped');
        signal.addEventListener('abort', onAbort, { once: true });
        req.on('socket', (socket) => {
          if (!socket.connecting) return startReading();
          connectTimer = setTimeout(() => fail('CONNECT_TIMEOUT', `no connection within ${connectTimeoutMs} ms`), connectTimeoutMs);
          socket.once(secure ? 'secureConnect' : 'connect', startReading);
        });
        req.on('error', (error: NodeJS.ErrnoException) => fail('CONNECTION_FAILED', error.code ? `${error.code} ${error.message}` : error.message));
        req.end(message.content);
      });
    },
  };
}

function authorizationOf(auth: WebhookSubscription['auth'], resolveSecret: (ref: SecretRef) => string): string | undefined {
  switch (auth?.type ?? 'none') {
    case 'basic': {
      if (!auth?.username || !auth.password) throw new WebhookConfigError('WEBHOOK_AUTH_INCOMPLETE', 'basic auth needs username and password');
      return `Basic ${Buffer.from(`${auth.username}:${resolveSecret(auth.password)}`, 'utf8').toString('base64')}`;
    }
    case 'bearer': {
      if (!auth?.token) throw new WebhookConfigError('WEBHOOK_AUTH_INCOMPLETE', 'bearer auth needs a token');
      return `Bearer ${resolveSecret(auth.token)}`;
    }
    default:
      return undefined;
  }
}

function validHeader(name: string, value: string): boolean {
  try {
    http.validateHeaderName(name);
    http.validateHeaderValue(name, value);
    return true;
  } catch {
    return false;
  }
}

/** Retry-After in ms (delta seconds or an HTTP date); undefined when absent or malformed. */
function retryAfter(value: string | undefined): number | undefined {
  if (!value) return undefined;
  if (/^\d{1,9}$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : undefined;
}

/** Origin and path only: a query string may carry a token. */
export function safeTarget(callbackUrl: string): string {
  try {
    const url = new URL(callbackUrl);
    return `${url.origin}${url.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}
