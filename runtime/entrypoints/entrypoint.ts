/**
 * The client-facing side of an API. An entrypoint translates one client protocol to and from
 * messages through its Exchange; it never imports a broker client and never authenticates
 * (the server routes, checks CORS and authenticates before `handle`/`upgrade` run).
 *
 * Selection: the router tries an API's entrypoints by descending `specificity`
 * (websocket upgrade 300 > sse 200 > http-get / http-post 100) and the first whose `accepts`
 * is true serves the request; none: 404 `No entrypoint matches the incoming request`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { STATUS_CODES } from 'node:http';
import type { BundleApi } from '../../schemas/types.ts';
import type { Caller } from '../plans/plan.ts';
import type { ExchangePort } from '../exchange-port.ts';
import type { Connection } from '../connections.ts';
import type { Logger } from '../log.ts';
import { asGatewayError, GatewayError, NO_CONTEXT_PATH, NO_ENTRYPOINT } from '../../core/errors.ts';

export const SPECIFICITY = { upgrade: 300, eventStream: 200, method: 100 } as const;

/** Everything one HTTP request needs; built by the server after routing, CORS and authentication. */
export interface HttpContext {
  readonly exchange: ExchangePort;
  readonly caller: Caller;
  /** The parsed request URL (query included; never log it whole). */
  readonly url: URL;
  readonly req: IncomingMessage;
  /** CORS and rate-limit headers are already set on it. */
  readonly res: ServerResponse;
  /**
   * This request in the exchange's connection tracker, and its abort signal (Abortable; `.signal`
   * makes an AbortSignal for APIs that need one): it aborts when the request must end: client gone, API redeployed (reason code SERVICE_RESTART), gateway stopping
   * (GATEWAY_STOPPING), credential expired. Count delivered/published messages in `connection.messages`.
   */
  readonly connection: Connection;
  readonly log: Logger;
  /**
   * For a response or connection that outlives `handle`/`upgrade` (an SSE stream of a shared
   * subscription, a WebSocket): called before `handle`/`upgrade` resolves, it makes the server wait
   * for `ended()` (called exactly once, when it is over) instead of their promise, for the log line
   * and the release of the connection. No promise chain or suspended frame then lives as long as
   * the stream (about 0.6 KB per idle subscriber). After `detach`, `url` (and a handshake's `req`
   * and `head`) are no longer available.
   */
  detach(): void;
  ended(): void;
}

/** A WebSocket (or other upgrade) handshake that passed routing, CORS and authentication. */
export interface UpgradeContext extends Omit<HttpContext, 'res'> {
  readonly socket: Duplex;
  readonly head: Buffer;
  /** Headers to add to the 101 answer (CORS, rate limit). */
  readonly responseHeaders: Readonly<Record<string, string>>;
}

export interface Entrypoint {
  /** The schema `type`. */
  readonly type: string;
  /** Higher is tried first; see SPECIFICITY. */
  readonly specificity: number;
  /**
   * Does `handle` read the request body? When not, a request that declares one is answered with
   * `Connection: close` and the connection ends after the answer (the body is never read).
   */
  readonly readsBody?: boolean;
  /** Does this entrypoint serve this request? Cheap and side-effect free (method, headers). */
  accepts(req: IncomingMessage, upgrade: boolean): boolean;
  /** Serves one HTTP request; resolves once the response ended. Throws only before writing (the server answers the error). */
  handle?(context: HttpContext): Promise<void>;
  /** Completes (or refuses) one handshake and serves the connection; resolves once it is closed. */
  upgrade?(context: UpgradeContext): Promise<void>;
  /** Background entrypoints (webhook): start consuming once the exchange is warm. */
  start?(exchange: ExchangePort): Promise<void>;
  /** Stop background work; called exactly once when the exchange is dropped. */
  stop?(): Promise<void>;
  /** Extra state for the admin /status page (e.g. webhook subscription status). */
  status?(): unknown;
}

/** What an entrypoint factory gets besides its own config; built once per bundle. */
export interface EntrypointContext {
  readonly apiId: string;
  readonly api: BundleApi;
  readonly instanceId: string;
  /** The config of the endpoint the exchange subscribes with (its instance says it subscribes), if any. */
  readonly subscribeEndpoint?: import('../../schemas/types.ts').Endpoint;
  resolveSecret(ref: import('../../schemas/types.ts').SecretRef): string;
  /** The gateway's state (the webhook table, the hosts callbacks may call). */
  readonly state: import('../gateway-state.ts').GatewayState;
}

export type EntrypointFactory<Config> = (config: Config, context: EntrypointContext) => Entrypoint;

/** One factory per entrypoint type of the schema: a type without one fails to compile. */
export type EntrypointFactories = { readonly [K in import('../../schemas/types.ts').Entrypoint['type']]: EntrypointFactory<Extract<import('../../schemas/types.ts').Entrypoint, { type: K }>> };

/** The body and content type an error is answered with: the exact 404 texts as plain text, others as JSON {code, message}. */
export function errorBody(error: GatewayError): { contentType: string; body: string } {
  if (error.message === NO_CONTEXT_PATH || error.message === NO_ENTRYPOINT) {
    return { contentType: 'text/plain; charset=utf-8', body: error.message };
  }
  return { contentType: 'application/json', body: JSON.stringify({ code: error.code, message: error.message, status: error.status }) };
}

export { asGatewayError };

/**
 * Does `req` declare a body (Content-Length > 0, or any Transfer-Encoding) that has not arrived
 * whole yet? Answering such a request must close the connection: keeping it alive would make node
 * read (and discard) the rest of the body, however large, to reach the next request.
 */
export function bodyUnread(req: IncomingMessage): boolean {
  if (req.complete) return false;
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** Answers the request with `Connection: close` (node then ends the socket after the answer) when its body is unread. */
export function closeIfBodyUnread(req: IncomingMessage, res: ServerResponse): void {
  if (!res.headersSent && bodyUnread(req)) res.setHeader('Connection', 'close');
}

/**
 * Answers an HTTP request with an error, unless the response already started (then it is ended).
 * A refused request whose body was not read closes its connection (see `closeIfBodyUnread`).
 */
export function writeError(res: ServerResponse, error: unknown, headers: Readonly<Record<string, string>> = {}): void {
  if (res.headersSent || res.writableEnded || res.destroyed) {
    if (!res.writableEnded) res.end();
    return;
  }
  const gatewayError = asGatewayError(error);
  const { contentType, body } = errorBody(gatewayError);
  closeIfBodyUnread(res.req, res);
  res.statusCode = gatewayError.status;
  for (const [name, value] of Object.entries({ ...headers, ...gatewayError.headers })) res.setHeader(name, value);
  res.setHeader('Content-Type', contentType);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}

/** Answers a handshake with a plain HTTP status (no upgrade) and closes the socket. */
export function writeHandshakeError(socket: Duplex, error: unknown, headers: Readonly<Record<string, string>> = {}): void {
  if (socket.destroyed) return;
  const gatewayError = asGatewayError(error);
  const { contentType, body } = errorBody(gatewayError);
  const lines = [
    `HTTP/1.1 ${gatewayError.status} ${STATUS_CODES[gatewayError.status] ?? 'Error'}`,
    'Connection: close',
    `Content-Type: ${contentType}`,
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...Object.entries({ ...headers, ...gatewayError.headers }).map(([name, value]) => `${name}: ${value}`),
  ];
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
  // Do not wait for a client that never reads: a bounded grace, then destroy.
  setTimeout(() => socket.destroy(), 1000).unref();
}
