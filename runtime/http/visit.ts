/** One request or handshake at the gateway port before it is routed: its URL, id, client address, log line and SERVER span (server.ts). */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Exchange } from '../exchange.ts';
import type { Connection } from '../connections.ts';
import type { Caller, RequestView } from '../plans/plan.ts';
import type { Entrypoint, HttpContext, UpgradeContext } from '../entrypoints/entrypoint.ts';
import { errors, GatewayError } from '../../core/errors.ts';
import { log, safePath, type Logger } from '../log.ts';
import { clientAddress, type TrustedProxies } from './client-address.ts';
import type { Tracing, TraceSpan } from '../tracing/tracing.ts';
import { serverSpan } from '../tracing/server-span.ts';

/** What newVisit reads of the server's options. */
export interface VisitOptions {
  readonly trustedProxies?: TrustedProxies;
  readonly tracing?: Tracing | null;
  readonly tls?: unknown;
}

/** What a request the HTTP parser refused (before any routing) is answered with: a coded error like every other. */
export function clientErrorAnswer(code: string | undefined): GatewayError {
  if (code === 'HPE_HEADER_OVERFLOW') return new GatewayError('HEADERS_TOO_LARGE', 431, 'The request headers are larger than 16 KiB.', 1009);
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return new GatewayError('REQUEST_TIMEOUT', 408, 'The request headers did not arrive in time.', 1001);
  return new GatewayError('MALFORMED_REQUEST', 400, 'The request is not valid HTTP/1.1.', 1002);
}

/** Why a connection ended when the client went away first (logged as status 499). */
export const clientGone = errors.clientGone;

export function requestView(req: IncomingMessage, url: URL, client: string): RequestView {
  return { headers: req.headers, query: url.searchParams, remoteAddress: client };
}

/** Absolute-form targets (`GET http://host/path`, sent by clients configured for a proxy; RFC 9112 3.2.2). */
const ABSOLUTE_FORM = /^https?:\/\/[^/?#]*/i;

/** The request target as a URL on the gateway: origin-form, or absolute-form whose host is ignored. */
export function parseUrl(req: IncomingMessage): URL {
  const given = req.url ?? '/';
  const raw = ABSOLUTE_FORM.test(given) ? given.replace(ABSOLUTE_FORM, '') || '/' : given;
  if (!raw.startsWith('/') || raw.length > 8192) throw errors.badRequest('BAD_URL', 'The request URL is malformed.');
  try {
    // Concatenated, not resolved: `//a` is a path here, never a host.
    return new URL(`http://gateway${raw}`);
  } catch {
    throw errors.badRequest('BAD_URL', 'The request URL is malformed.');
  }
}

/**
 * No bundle served yet (the first deploy is still loading, or its source is unreachable): every
 * request and handshake is refused with 503 NOT_READY and Retry-After, not a 404 that would tell
 * clients and load balancers the API does not exist. Routing starts with the first bundle.
 */
const NOT_READY_RETRY_AFTER_S = 1;
export function notReady(): GatewayError {
  return new GatewayError('NOT_READY', 503, 'The gateway serves no bundle yet; retry shortly.', 1013, { 'Retry-After': String(NOT_READY_RETRY_AFTER_S) });
}

/** What an incoming X-Request-Id may look like to be kept (else a fresh UUID is used). */
const REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/**
 * The request id of a request or handshake: the client's `X-Request-Id` when it is a plain token
 * of at most 128 characters, else a new UUID. It is echoed as `X-Request-Id` on every answer
 * (101 included) and carried by every log line of that request or connection.
 */
export function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  if (typeof given === 'string' && REQUEST_ID.test(given)) return given;
  const id = randomUUID();
  // Node builds the UUID by concatenation: a rope of 13 parts (about 0.4 KB, held as long as a
  // stream's log line needs the id). Reading a character flattens it in place (about 80 bytes).
  id.charCodeAt(0);
  return id;
}

/** A request or handshake admitted by every check: where it goes and who calls. */
export interface Admitted {
  readonly url: URL;
  readonly exchange: Exchange;
  readonly entrypoint: Entrypoint;
  readonly caller: Caller;
}

/**
 * One request or handshake as it goes through the gateway: its log line and what it holds. A class
 * of fixed shape: it lives as long as an SSE stream or a WebSocket does.
 */
export class Visit {
  readonly started = performance.now();
  readonly trace: Trace = { api: null, entrypoint: null, plan: null, status: 0, messages: 0 };
  /** Headers for the answer (CORS, rate limit), success or error. */
  readonly headers: Record<string, string> = {};
  exchange: Exchange | undefined = undefined;
  connection: Connection | undefined = undefined;
  #log: Logger | undefined = undefined;

  constructor(
    readonly requestId: string,
    /** The client address (the peer, or what a trusted proxy forwarded): throttling, rate limits, log. */
    readonly client: string,
    /** The SERVER span of this request or connection (tracing on only). */
    readonly span: TraceSpan | undefined,
    /** The request's method and path (no query), for the log line: a detached connection holds no request. */
    readonly method: string,
    readonly path: string,
  ) {}

  /** This visit's logger (its request id bound), made on first use: an idle stream holds none. */
  get log(): Logger {
    const span = this.span;
    return (this.#log ??= log.child(span ? { requestId: this.requestId, trace_id: span.traceId, span_id: span.spanId } : { requestId: this.requestId }));
  }
}

export function newVisit(req: IncomingMessage, options: VisitOptions): Visit {
  const requestId = requestIdOf(req);
  const client = clientAddress(req.socket.remoteAddress ?? '', req.headers, options.trustedProxies);
  const path = safePath(req.url);
  const span = options.tracing ? serverSpan(options.tracing, req, path, client, options.tls !== undefined) : undefined;
  return new Visit(requestId, client, span, req.method ?? 'GET', path);
}

/**
 * What an entrypoint gets for an admitted request or handshake; its logger is the visit's, made on
 * first use. A response or connection that outlives `handle`/`upgrade` detaches (HttpContext.detach):
 * the server then waits for `ended()`, and the context stops holding what only the start needed.
 */
abstract class AdmittedContext {
  readonly exchange: Exchange;
  readonly caller: Caller;
  #url: URL | undefined;
  /** attached: over when handle/upgrade settles; detached: when `ended` is called; ended: it was. */
  #state: 'attached' | 'detached' | 'ended' = 'attached';

  constructor(
    admitted: Admitted,
    readonly connection: Connection,
    readonly visit: Visit,
  ) {
    this.exchange = admitted.exchange;
    this.caller = admitted.caller;
    this.#url = admitted.url;
  }

  get url(): URL {
    return this.#url ?? gone('URL');
  }

  get log(): Logger {
    return this.visit.log;
  }

  /** Has the entrypoint taken over telling when it is over (see HttpContext.detach)? */
  get detached(): boolean {
    return this.#state !== 'attached';
  }

  detach(): void {
    if (this.#state !== 'attached') return;
    this.#state = 'detached';
    this.release();
  }

  ended(): void {
    if (this.#state !== 'detached') return;
    this.#state = 'ended';
    this.finish();
  }

  /** What a detached response or connection does not need is not held as long as it (the URL: about 0.4 KB). */
  protected release(): void {
    this.#url = undefined;
  }

  /** The server's end of it: its log line, the release of its connection. */
  protected abstract finish(): void;
}

const gone = (what: string): never => {
  throw new Error(`the request detached from its entrypoint: its ${what} is no longer held`);
};

export class RequestContext extends AdmittedContext implements HttpContext {
  constructor(
    admitted: Admitted,
    readonly req: IncomingMessage,
    connection: Connection,
    visit: Visit,
    readonly res: ServerResponse,
    /** One function for all requests (the server's). */
    private readonly onEnded: (context: RequestContext) => void,
  ) {
    super(admitted, connection, visit);
  }

  protected finish(): void {
    this.onEnded(this);
  }
}

export class HandshakeContext extends AdmittedContext implements UpgradeContext {
  #req: IncomingMessage | undefined;
  #head: Buffer | undefined;

  constructor(
    admitted: Admitted,
    req: IncomingMessage,
    connection: Connection,
    visit: Visit,
    readonly socket: Duplex,
    head: Buffer,
    readonly responseHeaders: Readonly<Record<string, string>>,
    /** One function for all handshakes (the server's). */
    private readonly onEnded: (context: HandshakeContext) => void,
  ) {
    super(admitted, connection, visit);
    this.#req = req;
    this.#head = head;
  }

  /** The handshake request: a connection that detached holds it no longer (nor the head, which pins a read buffer). */
  get req(): IncomingMessage {
    return this.#req ?? gone('request');
  }

  get head(): Buffer {
    return this.#head ?? gone('head');
  }

  protected override release(): void {
    super.release();
    this.#req = undefined;
    this.#head = undefined;
  }

  protected finish(): void {
    this.onEnded(this);
  }
}

export interface Trace {
  api: string | null;
  entrypoint: string | null;
  plan: string | null;
  status: number;
  messages: number;
  closeCode?: number;
  /** The stable code of the error the request ended with. */
  code?: string;
}
