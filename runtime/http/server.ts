/**
 * The gateway port: one node http(s) server. HTTP requests go through Express to one stable
 * handler; WebSocket handshakes arrive on the `upgrade` event (ws in noServer mode, owned by the
 * websocket entrypoint). Both delegate to `RouterSwitch.current` and do, in this order:
 *
 *   parse URL (400) -> no bundle yet (503 NOT_READY) -> context path (404) -> CORS Origin (403; preflight answered) ->
 *   entrypoint (404) -> authenticate (401) -> admit (429) -> entrypoint.handle / .upgrade
 *
 * A refused handshake gets a plain HTTP status line and body, never an upgrade. Every socket in
 * the upgrade path has an `error` handler; nothing a client sends can throw out of here.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { RouterSwitch } from '../routing/router.ts';
import type { Connection } from '../connections.ts';
import { errors, GatewayError } from '../../core/errors.ts';
import { writeError, writeHandshakeError, asGatewayError, closeIfBodyUnread } from '../entrypoints/entrypoint.ts';
import { log, safePath } from '../log.ts';
import type { TrustedProxies } from './client-address.ts';
import type { Tracing } from '../tracing/tracing.ts';
import { endServerSpan } from '../tracing/server-span.ts';
import { clientErrorAnswer, clientGone, HandshakeContext, newVisit, notReady, parseUrl, RequestContext, requestView, type Admitted, type Visit } from './visit.ts';
import type { CatalogRoute } from '../catalog/route.ts';
import { sameOrigin } from './cors.ts';
import { abortsOnClose, ResponseListeners, socketFailed } from './listeners.ts';

export { requestIdOf } from './visit.ts';

export interface ServerOptions {
  readonly host: string;
  readonly port: number;
  /** PEM certificate chain and key: https:// and wss:// on the same port. */
  readonly tls?: { readonly cert: string | Buffer; readonly key: string | Buffer };
  /** How long a client may take to send its request headers before a 408 (default 60000 ms). */
  readonly headersTimeoutMs?: number;
  /** Peers whose Forwarded / X-Forwarded-For name the client address (see client-address.ts). */
  readonly trustedProxies?: TrustedProxies;
  /** The gateway's tracer: a SERVER span per request and handshake (null/absent: none). */
  readonly tracing?: Tracing | null;
  /** The developer catalog (runtime/catalog/route.ts): its paths are answered before routing. */
  readonly catalog?: CatalogRoute;
}

export class GatewayServer {
  readonly server: http.Server;
  #stopping = false;
  /** Sockets that arrived by `upgrade` (node's closeAllConnections does not see them). */
  readonly #upgraded = new Set<Duplex>();

  constructor(
    private readonly routers: RouterSwitch,
    private readonly options: ServerOptions,
  ) {
    // Node's own request listener, no framework: the gateway routes by itself, and a router's
    // per-request state (params, query, the `next` closure and its scope) would stay alive as long as
    // each SSE stream does (about 1 KB per subscriber).
    const app = (req: IncomingMessage, res: ServerResponse) => this.#request(req, res);
    const headersTimeout = options.headersTimeoutMs ?? 60_000;
    const serverOptions: http.ServerOptions = {
      maxHeaderSize: 16 * 1024,
      requestTimeout: Math.max(60_000, headersTimeout),
      headersTimeout,
      // How often slow clients are looked for (node's default, 30 s, lets a slow client hold a socket that much longer).
      connectionsCheckingInterval: Math.min(30_000, Math.max(100, headersTimeout / 4)),
    };
    this.server = options.tls
      ? https.createServer({ ...serverOptions, cert: options.tls.cert, key: options.tls.key }, app)
      : http.createServer(serverOptions, app);
    // `Expect: 100-continue`: the 100 is sent only by an entrypoint about to read the body (after
    // routing and authentication), so a refused request never has its body sent at all.
    this.server.on('checkContinue', app);
    this.server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) =>
      writeError(res, new GatewayError('EXPECTATION_FAILED', 417, 'Only "Expect: 100-continue" is supported.', 1002)));
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', socketFailed(safePath(req.url)));
      this.#upgraded.add(socket);
      socket.once('close', () => this.#upgraded.delete(socket));
      void this.#upgrade(req, socket, head);
    });
    this.server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
      socket.on('error', () => undefined);
      const answer = clientErrorAnswer(error.code);
      log.info({ err: error.code ?? error.message, status: answer.status, code: answer.code }, 'bad request');
      // As node does: no answer of our own over a response already on its way (a pipelined request went bad).
      const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
      if (!socket.writable || error.code === 'ECONNRESET' || inFlight?.headersSent) return void socket.destroy();
      writeHandshakeError(socket, answer);
    });
    this.server.on('tlsClientError', (error: Error) => log.debug({ err: error.message }, 'TLS handshake failed'));
  }

  listen(): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off('error', reject);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  /** Stop accepting; idle keep-alive sockets close now, busy ones once their response ends. */
  stopAccepting(): Promise<void> {
    this.#stopping = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    return closed;
  }

  /** Last resort after the grace period: every socket, WebSockets and handshakes in progress included. */
  destroyAll(): void {
    this.server.closeAllConnections();
    for (const socket of this.#upgraded) socket.destroy();
  }

  /**
   * What a request and a handshake share, in order: route (404), CORS (403; a preflight is
   * answered by the caller with `preflight`), entrypoint (404), plan (401), rate limit (429).
   * Records each step in `visit` (trace, headers). Throws a GatewayError.
   */
  async #admit(req: IncomingMessage, upgrade: boolean, visit: Visit): Promise<Admitted | { preflight: Record<string, string> }> {
    if (this.#stopping) throw errors.gatewayStopping();
    const url = parseUrl(req);
    const router = this.routers.current;
    if (!router) throw notReady();
    const routed = router.route(url.pathname);
    if (!routed) throw errors.noContextPath();
    const { exchange, params } = routed;
    visit.trace.api = exchange.id;
    visit.exchange = exchange;
    const origin = req.headers.origin;
    if (exchange.cors && typeof origin === 'string') {
      if (!exchange.cors.allows(origin) && !sameOrigin(origin, req.headers.host)) throw errors.originNotAllowed();
      if (!upgrade && req.method === 'OPTIONS' && req.headers['access-control-request-method']) {
        const asked = req.headers['access-control-request-headers'];
        return { preflight: exchange.cors.preflightHeaders(origin, typeof asked === 'string' ? asked : undefined) };
      }
      Object.assign(visit.headers, exchange.cors.responseHeaders(origin));
    }
    const entrypoint = exchange.entrypoints.find((e) => (upgrade ? e.upgrade : e.handle) && e.accepts(req, upgrade));
    if (!entrypoint) throw errors.noEntrypoint();
    visit.trace.entrypoint = entrypoint.type;
    const caller = await exchange.authenticate({ ...requestView(req, url, visit.client), params });
    visit.trace.plan = caller.planKey;
    Object.assign(visit.headers, await exchange.admit(caller, 'connect'));
    return { url, exchange, entrypoint, caller };
  }

  /** Opens the admitted caller's connection (the caller aborts it with CLIENT_GONE when the client goes). */
  #open(visit: Visit, { exchange, entrypoint, caller }: Admitted): Connection {
    const connection = exchange.open(entrypoint.type, caller);
    visit.connection = connection;
    if (visit.span) connection.span = visit.span;
    this.routers.state.telemetry.emit({ kind: 'connection', api: exchange.id, entrypoint: entrypoint.type, delta: 1 });
    return connection;
  }

  /** A failure of this visit as a GatewayError, counted once and logged when it is the gateway's own. */
  #failed(visit: Visit, error: unknown): GatewayError {
    const gatewayError = asGatewayError(error);
    if (gatewayError.code === 'INTERNAL') visit.log.error({ err: error, api: visit.trace.api }, 'request failed');
    visit.trace.code = gatewayError.code;
    (visit.connection ?? this.routers.state.telemetry.trafficMeterFor(visit.trace.api ?? '', visit.trace.entrypoint ?? '')).failed(error);
    return gatewayError;
  }

  /** Releases the connection (exactly once) and writes the visit's log line. */
  #finish(visit: Visit): void {
    const { connection, exchange, trace } = visit;
    if (connection && exchange) {
      exchange.connections.release(connection);
      this.routers.state.telemetry.emit({ kind: 'connection', api: exchange.id, entrypoint: connection.entrypoint, delta: -1 });
      trace.messages = connection.messages;
      if (connection.closeCode !== undefined) trace.closeCode = connection.closeCode;
      // Why it ended, when the gateway ended it (redeploy, stopping, credential expired) or it failed; not when the client left.
      const ended = connection.failure ?? (connection.aborted ? connection.reason : undefined);
      if (ended instanceof GatewayError && ended.code !== 'CLIENT_GONE') trace.code ??= ended.code;
    }
    // A client whose stream or request the gateway failed (5xx: broker lost, internal) is one warn
    // line, without a stack: the endpoint's own state change is the one error line of an outage.
    this.#log(visit, (connection?.failure?.status ?? 0) >= 500);
    if (visit.span) endServerSpan(visit.span, { ...trace, method: visit.method, path: visit.path, contextPaths: exchange?.contextPaths, requestId: visit.requestId });
  }

  /**
   * One request. No frame of it stays suspended while an entrypoint streams (SSE, long-poll):
   * `#serve` chains on the entrypoint's promise without awaiting it, so what lives as long as the
   * stream is the entrypoint's own state and the callbacks below (req, res, visit), not the URL or
   * an async function's registers. An SSE stream of a shared subscription detaches
   * (HttpContext.detach): its end comes by `#ended`, and no promise lives as long as it does.
   */
  #request(req: IncomingMessage, res: ServerResponse): void {
    const visit = newVisit(req, this.options);
    res.setHeader('X-Request-Id', visit.requestId);
    this.#responses.watch(res, visit);
    this.#serve(req, res, visit).then(
      (context) => context?.detached || this.#served(req, res, visit),
      (error: unknown) => {
        try {
          writeError(res, this.#failed(visit, error), visit.headers);
        } finally {
          this.#served(req, res, visit);
        }
      },
    );
  }

  #served(req: IncomingMessage, res: ServerResponse, visit: Visit): void {
    visit.trace.status = res.writableFinished || res.headersSent ? res.statusCode : 499;
    this.#finish(visit);
  }

  /** Each response's `error` and `close` listeners: one function each for every response. */
  readonly #responses = new ResponseListeners();

  /** A detached request's end (see HttpContext.detach): one function for every request. */
  readonly #ended = (context: RequestContext) => this.#served(context.req, context.res, context.visit);

  /**
   * Routes and admits the request, then hands it to its entrypoint: settles when the entrypoint is
   * done, with its context (undefined when the request never reached one).
   */
  async #serve(req: IncomingMessage, res: ServerResponse, visit: Visit): Promise<RequestContext | undefined> {
    if (await this.#catalog(req, res, visit)) return undefined;
    const admitted = await this.#admit(req, false, visit);
    if ('preflight' in admitted) {
      closeIfBodyUnread(req, res);
      res.writeHead(204, { ...admitted.preflight, 'Content-Length': '0' }).end();
      return undefined;
    }
    for (const [name, value] of Object.entries(visit.headers)) res.setHeader(name, value);
    if (!admitted.entrypoint.readsBody) closeIfBodyUnread(req, res);
    const connection = this.#open(visit, admitted);
    res.on('close', this.#responses.closed);
    if (res.destroyed || req.destroyed) connection.abort(clientGone());
    // Not awaited: this frame ends now (see #request).
    const context = new RequestContext(admitted, req, connection, visit, res, this.#ended);
    return admitted.entrypoint.handle!(context).then(
      () => context,
      (error: unknown) => {
        // After detaching, the response is the entrypoint's (it may be streaming): its end still comes by `ended`.
        if (!context.detached) throw error;
        visit.log.error({ err: error, api: visit.trace.api }, 'stream failed after it started');
        return context;
      },
    );
  }

  /** A request for the developer catalog (before routing): answered, true; else false. */
  async #catalog(req: IncomingMessage, res: ServerResponse, visit: Visit): Promise<boolean> {
    const catalog = this.options.catalog;
    if (!catalog || this.#stopping) return false;
    const url = parseUrl(req);
    if (!catalog.matches(url.pathname)) return false;
    closeIfBodyUnread(req, res);
    await catalog.handle(req, res, url, visit.client);
    return true;
  }

  /** A detached connection's end (a WebSocket: see HttpContext.detach): one function for every handshake. */
  readonly #upgradeEnded = (context: HandshakeContext) => this.#finish(context.visit);

  /** One handshake. Once the entrypoint detached (the WebSocket is open), this frame ends: nothing of it lives as long as the connection. */
  async #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const visit = newVisit(req, this.options);
    visit.headers['X-Request-Id'] = visit.requestId;
    let context: HandshakeContext | undefined;
    try {
      const admitted = await this.#admit(req, true, visit);
      if ('preflight' in admitted || socket.destroyed) throw clientGone();
      const connection = this.#open(visit, admitted);
      socket.on('close', abortsOnClose(connection));
      visit.trace.status = 101;
      context = new HandshakeContext(admitted, req, connection, visit, socket, head, visit.headers, this.#upgradeEnded);
      await admitted.entrypoint.upgrade!(context);
    } catch (error) {
      // The WebSocket is open (detached): no HTTP answer on it; its end still comes by `ended`.
      if (context?.detached) return void visit.log.error({ err: error, api: visit.trace.api }, 'connection failed after it opened');
      const gatewayError = this.#failed(visit, error);
      visit.trace.status = gatewayError.status;
      writeHandshakeError(socket, gatewayError, visit.headers);
    } finally {
      if (!context?.detached) this.#finish(visit);
    }
  }

  #log({ trace, started, log: requestLog, client, method, path }: Visit, failed = false): void {
    const durationMs = Math.round(performance.now() - started);
    requestLog[failed ? 'warn' : 'info']({ event: 'request', method, path, client, ...trace, durationMs }, 'request');
    this.routers.state.telemetry.emit({ kind: 'request', api: trace.api, entrypoint: trace.entrypoint, plan: trace.plan, status: trace.status, durationMs, messages: trace.messages, code: trace.code });
  }
}
