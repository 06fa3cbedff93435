/**
 * websocket: publish and subscribe over one WebSocket. Each inbound frame is one message
 * (publisher), each message one outbound frame (subscriber): text when the content is UTF-8,
 * binary otherwise, built once per message for every client (Delivery memo). `?cursor=` resumes.
 * With `messageEnvelope`, each frame is JSON carrying the message id (websocket-envelope.ts).
 *
 * Close codes: 1000 the stream ended, 1008 credential expired or rate limited, 1009 frame over
 * maxFrameBytes (ws maxPayload), 1011 endpoint error, 1012 API redeployed, 1013 gateway stopping
 * or slow consumer. Server pings every pingIntervalMs; a client that misses two is terminated.
 * Backpressure: while the socket's send buffer is over HIGH_WATER the loop waits for it to
 * drain, so a client that stops reading fills its bounded fanout queue and meets the
 * slow-consumer policy (fanout.queueSize messages or fanout.maxQueuedBytes bytes, the socket's
 * unflushed bytes included). Inbound frames are published in order, with reading paused while
 * too many (count or bytes) are in flight (websocket-publish.ts).
 */
import { isUtf8 } from 'node:buffer';
import { WebSocketServer, type WebSocket } from 'ws';
import type { WebsocketEntrypoint } from '../../schemas/types.ts';
import type { Message } from '../../core/message.ts';
import type { EntrypointFactory, UpgradeContext } from './entrypoint.ts';
import { SPECIFICITY, asGatewayError } from './entrypoint.ts';
import { GatewayError, closeCodeOf, errors } from '../../core/errors.ts';
import { pipeable } from '../subscribe/fanout.ts';
import { abortsOnFailure } from '../connections.ts';
import { ENVELOPE_KEY, envelopeFrame } from './websocket-envelope.ts';
import { Keepalive } from './websocket-keepalive.ts';
import { HIGH_WATER, SocketSink, type WireEncoding } from './websocket-sink.ts';
import { DEFAULT_MAX_IN_FLIGHT_BYTES, publishFrames } from './websocket-publish.ts';

interface Frame {
  readonly data: Buffer;
  /** ws send options, shared by every client (no allocation per message per client). */
  readonly options: { readonly binary: boolean };
}

const TEXT = { binary: false } as const;
const BINARY = { binary: true } as const;
const encodeFrame = (message: Message): Frame => ({ data: message.content, options: isUtf8(message.content) ? TEXT : BINARY });

/**
 * The bytes ws.send writes for one whole message: an unmasked final frame (RFC 6455 5.2), header
 * and payload in one Buffer. Built once per message for every client of a fanout, and written to
 * each client's socket with one write (ws.send would build a header and write twice per client).
 */
export function wireFrame(data: Buffer, binary: boolean): Buffer {
  const length = data.length;
  const headerLength = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const wire = Buffer.allocUnsafe(headerLength + length);
  wire[0] = 0x80 | (binary ? 2 : 1);
  if (length < 126) {
    wire[1] = length;
  } else if (length < 65536) {
    wire[1] = 126;
    wire.writeUInt16BE(length, 2);
  } else {
    wire[1] = 127;
    wire.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    wire.writeUInt32BE(length >>> 0, 6);
  }
  data.copy(wire, headerLength);
  return wire;
}

/**
 * The close code ws sends when a client breaks the protocol (its error's `code`, see ws's
 * receiver): 1007 bad UTF-8, 1008 too many fragments, 1009 too big, else 1002. Undefined for
 * socket errors (nothing was sent; the close is 1006).
 */
const PROTOCOL_CLOSE_CODES: Readonly<Record<string, number>> = {
  WS_ERR_INVALID_UTF8: 1007,
  WS_ERR_TOO_MANY_BUFFERED_PARTS: 1008,
  WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH: 1009,
  WS_ERR_UNSUPPORTED_MESSAGE_LENGTH: 1009,
};
function protocolCloseCode(error: Error): number | undefined {
  const code = (error as NodeJS.ErrnoException).code;
  return code?.startsWith('WS_ERR_') ? PROTOCOL_CLOSE_CODES[code] ?? 1002 : undefined;
}

/** Close reasons are limited to 123 bytes. */
function closeReason(reason: unknown): string {
  const text = reason instanceof GatewayError ? reason.message : 'Internal gateway error.';
  return Buffer.byteLength(text) <= 123 ? text : text.slice(0, 100);
}

export const createWebsocketEntrypoint: EntrypointFactory<WebsocketEntrypoint> = (config) => {
  const publisher = config.publisher ?? true;
  const subscriber = config.subscriber ?? true;
  const pingIntervalMs = config.pingIntervalMs ?? 30_000;
  const maxPublishInFlightBytes = config.maxPublishInFlightBytes ?? DEFAULT_MAX_IN_FLIGHT_BYTES;
  const [frameKey, frameOf] = config.messageEnvelope ? [ENVELOPE_KEY, envelopeFrame] : ['websocket', encodeFrame];
  const wireKey = `${frameKey}:wire`;
  const wireOf = (message: Message): Buffer => {
    const frame = frameOf(message);
    return wireFrame(frame.data, frame.options.binary);
  };
  const encoding: WireEncoding = { key: wireKey, of: (delivery) => delivery.encoded(wireKey, wireOf) };
  const keepalive = new Keepalive(pingIntervalMs);
  const wss = new WebSocketServer({ noServer: true, maxPayload: config.maxFrameBytes ?? 1024 * 1024, clientTracking: false, perMessageDeflate: false });

  /**
   * Serves an open WebSocket. Detached (HttpContext.detach): `upgrade` resolves at once and the
   * connection's end reaches the server by `context.ended()` when the socket closes, so no promise,
   * suspended frame, handshake request or URL lives as long as the connection.
   */
  function serve(ws: WebSocket, context: UpgradeContext): void {
    const { exchange, caller, connection, socket } = context;
    const cursor = subscriber ? context.url.searchParams.get('cursor') || undefined : undefined;
    context.detach();
    let closing = false;
    const close = (code: number, reason: string) => {
      if (closing) return;
      closing = true;
      connection.closeCode = code;
      ws.close(code, reason);
      // A client that never answers the close handshake is cut after a grace period.
      setTimeout(() => ws.terminate(), 2000).unref();
    };

    ws.on('error', (error) => {
      // A protocol error: ws closes with its own code, which is what the log line must say.
      connection.closeCode ??= protocolCloseCode(error);
      context.log.debug({ api: exchange.id, err: error.message }, 'websocket error');
    });
    ws.on('close', (code) => {
      connection.closeCode ??= code;
      connection.abort(errors.clientGone());
      keepalive.delete(ws);
      context.ended();
    });
    const onAbort = () => {
      const reason = connection.reason;
      if ((reason as GatewayError)?.code === 'CLIENT_GONE') return;
      if ((reason as GatewayError)?.code === 'SLOW_CONSUMER') {
        context.log.warn({ api: exchange.id, entrypoint: 'websocket', plan: caller.planKey }, 'slow consumer disconnected (1013)');
        exchange.telemetry.emit({ kind: 'slow-consumer', api: exchange.id, entrypoint: 'websocket' });
      }
      close(closeCodeOf(reason), closeReason(reason));
    };
    // Aborted already (a handshake that landed on a drained exchange, or on plans a deploy just
    // changed for this caller): close at once, an abort event will not come again.
    if (connection.aborted) onAbort();
    else connection.addEventListener('abort', onAbort);

    // Keepalive: ping every interval; two missed pongs terminate (one timer for the entrypoint's clients).
    keepalive.add(ws);

    if (publisher) {
      publishFrames(ws, context, maxPublishInFlightBytes, { closing: () => closing, close: (error) => close(error.closeCode, closeReason(error)) });
    } else {
      ws.on('message', () => undefined);
    }

    if (subscriber) {
      void (async () => {
        try {
          const onFailure = abortsOnFailure(connection);
          const source = exchange.subscribe(caller, { cursor, signal: connection, onFailure });
          // Shared subscriptions: the fanout writes frames synchronously (no promise per message per
          // client), straight to the socket, as ws.send would (websocket-sink.ts).
          const queue = pipeable(source);
          if (queue) {
            queue.pipe(new SocketSink(queue, ws, socket, connection, encoding, close));
            return;
          }
          // Made here, not per connection: a shared subscription (above) never waits on it.
          const aborted = connection.aborted
            ? Promise.resolve()
            : new Promise<void>((resolve) => connection.addEventListener('abort', () => resolve()));
          for await (const delivery of source) {
            if (closing || ws.readyState !== ws.OPEN) break;
            const frame = delivery.encoded(frameKey, frameOf);
            connection.messages++;
            if (ws.bufferedAmount < HIGH_WATER) {
              ws.send(frame.data, frame.options);
            } else {
              // Backpressure: wait until the client read enough (or the connection must end).
              await Promise.race([new Promise<void>((done) => ws.send(frame.data, frame.options, () => done())), aborted]);
            }
          }
          if (!connection.aborted) close(1000, 'The stream ended.');
        } catch (error) {
          connection.abort(asGatewayError(error));
        }
      })();
    }
  }

  return {
    type: 'websocket',
    specificity: SPECIFICITY.upgrade,
    accepts: (req, upgrade) => upgrade && req.method === 'GET' && (req.headers.upgrade ?? '').toLowerCase() === 'websocket',
    upgrade(context) {
      // Resume capacity full: a plain 503 with Retry-After, before the upgrade (later: close 1013).
      const cursor = subscriber ? context.url.searchParams.get('cursor') || undefined : undefined;
      const resumeRefusal = context.exchange.resumeRefusal(cursor);
      if (resumeRefusal) return Promise.reject(resumeRefusal);
      const channelRefusal = subscriber && cursor === undefined ? context.exchange.channelRefusal?.(context.caller) : undefined;
      if (channelRefusal) return Promise.reject(channelRefusal);
      if (cursor === undefined) return accept(context);
      // A cursor the endpoint refuses (partitions the topic does not have): a plain 400 INVALID_CURSOR.
      return context.exchange.cursorRefusal(cursor).then((refusal) => (refusal ? Promise.reject(refusal) : accept(context)));
    },
  };

  /** Completes the handshake (or answers ws's own refusal) and serves the client. */
  function accept(context: UpgradeContext): Promise<void> {
    const { req, socket, head, responseHeaders } = context;
    let ws: WebSocket | undefined;
    let refused: Error | undefined;
    const addHeaders = (headers: string[]) => {
      for (const [name, value] of Object.entries(responseHeaders)) headers.push(`${name}: ${value}`);
    };
    // With a wsClientError listener, ws reports an invalid handshake (bad key, version) instead
    // of answering it: the server then answers 400 with a code and logs it like any refusal.
    const onRefused = (error: Error) => (refused = error);
    // Without verifyClient, ws completes (or refuses) the handshake synchronously: the
    // listeners see only this one.
    wss.on('headers', addHeaders).on('wsClientError', onRefused);
    try {
      wss.handleUpgrade(req, socket, head, (client) => (ws = client));
    } finally {
      wss.off('headers', addHeaders).off('wsClientError', onRefused);
    }
    if (refused) {
      const version = /Version/.test(refused.message) ? { 'Sec-WebSocket-Version': '13, 8' } : undefined;
      return Promise.reject(new GatewayError('WEBSOCKET_HANDSHAKE_INVALID', 400, `${refused.message}.`, 1002, version));
    }
    // ws destroyed a socket that was no longer readable or writable.
    if (!ws) return Promise.reject(errors.clientGone());
    serve(ws, context);
    return Promise.resolve();
  }
};
