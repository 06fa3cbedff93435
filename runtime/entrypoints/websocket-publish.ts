/**
 * websocket-publish: the publisher side of a WebSocket (websocket.ts). Each inbound frame is one
 * message, published in arrival order, one after the other.
 *
 * Backpressure: the frames of one socket still being published (waiting or at the endpoint) are
 * bounded in count (MAX_IN_FLIGHT) and in bytes (`maxPublishInFlightBytes`). When either bound is
 * reached the gateway stops reading the socket, so the client meets TCP backpressure; it reads
 * again once both are below half. The frame that reaches the bound is kept (a frame up to
 * maxFrameBytes is accepted even when it is larger than the bound, alone), and so are the frames
 * ws already parsed from the same socket read (at most one read, 64 KiB).
 *
 * A publish refused for the message (400, 403, 413, ...) is answered with an error frame
 * `{"error": {"code", "message", "status"}}`; one that ends the connection (401, 429, 5xx) closes
 * it with the error's close code.
 */
import type { WebSocket, RawData } from 'ws';
import type { GatewayError } from '../../core/errors.ts';
import type { UpgradeContext } from './entrypoint.ts';
import { asGatewayError } from './entrypoint.ts';

/** Publishes in flight on one socket before reading pauses. */
export const MAX_IN_FLIGHT = 64;
/** Bytes of content in flight on one socket before reading pauses (`maxPublishInFlightBytes` default). */
export const DEFAULT_MAX_IN_FLIGHT_BYTES = 4 * 1024 * 1024;

/** What the publisher side needs of its connection (websocket.ts). */
export interface PublishConnection {
  /** True once the connection is closing: frames that arrive then are not published. */
  readonly closing: () => boolean;
  /** Closes the connection for an error that ends it. */
  readonly close: (error: GatewayError) => void;
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** Publishes each inbound frame of `ws`, holding at most `maxBytes` (and MAX_IN_FLIGHT frames) before it stops reading. */
export function publishFrames(ws: WebSocket, context: UpgradeContext, maxBytes: number, connection: PublishConnection): void {
  const { exchange, caller } = context;
  let count = 0;
  let bytes = 0;
  let chain = Promise.resolve();
  ws.on('message', (data) => {
    if (connection.closing()) return;
    const content = toBuffer(data);
    count++;
    bytes += content.length;
    if (count >= MAX_IN_FLIGHT || bytes >= maxBytes) ws.pause();
    chain = chain.then(async () => {
      try {
        if (connection.closing()) return;
        await exchange.publish(caller, { content, headers: {}, metadata: {} });
        context.connection.messages++;
      } catch (error) {
        const gatewayError = asGatewayError(error);
        if (gatewayError.status === 401 || gatewayError.status === 429 || gatewayError.status >= 500) {
          connection.close(gatewayError);
        } else if (ws.readyState === ws.OPEN) {
          ws.send(JSON.stringify({ error: gatewayError.toJSON() }));
        }
      } finally {
        count--;
        bytes -= content.length;
        if (ws.isPaused && count < MAX_IN_FLIGHT / 2 && bytes < maxBytes / 2) ws.resume();
      }
    });
  });
}
