/**
 * Errors with a stable code, an HTTP status and a WebSocket close code.
 * Entrypoints turn them into responses; nothing else decides a status.
 */
export class GatewayError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly closeCode: number = status >= 500 ? 1011 : 1008,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'GatewayError';
  }

  toJSON(): { code: string; message: string } {
    return { code: this.code, message: this.message };
  }
}

export const NO_CONTEXT_PATH = 'No context-path matches the request URI.';
export const NO_ENTRYPOINT = 'No entrypoint matches the incoming request';

export const errors = {
  noContextPath: () => new GatewayError('NO_CONTEXT_PATH', 404, NO_CONTEXT_PATH),
  noEntrypoint: () => new GatewayError('NO_ENTRYPOINT', 404, NO_ENTRYPOINT),
  endpointUnavailable: (detail: string) =>
    new GatewayError('ENDPOINT_UNAVAILABLE', 503, `The endpoint is unavailable: ${detail}. Retry later.`, 1011),
  badRequest: (code: string, message: string) => new GatewayError(code, 400, message, 1008),
  payloadTooLarge: (limit: number) =>
    new GatewayError('PAYLOAD_TOO_LARGE', 413, `The body is larger than the limit of ${limit} bytes.`, 1009),
  unauthorized: (code: string, message: string) => new GatewayError(code, 401, message, 1008),
  forbidden: (code: string, message: string) => new GatewayError(code, 403, message, 1008),
  /** No plan of the API applies to the request (no credential for any served plan). */
  planUnresolvable: () =>
    new GatewayError('PLAN_UNRESOLVABLE', 401, 'No plan of this API accepts the request: present a valid credential.', 1008),
  /** The origin is not allowed by the API's CORS settings. */
  originNotAllowed: () => new GatewayError('ORIGIN_NOT_ALLOWED', 403, 'The origin is not allowed by this API.', 1008),
  /** A channel parameter value the API or its endpoint cannot accept (empty, +, #, /, pattern). */
  invalidChannel: (detail: string) => new GatewayError('INVALID_CHANNEL', 400, `${detail}.`, 1008),
  /** The caller's plan binds a channel parameter to a token claim it does not carry. */
  channelForbidden: (parameter: string) =>
    new GatewayError('CHANNEL_FORBIDDEN', 403, `This credential may not use this channel: its ${parameter} is bound to a claim of the token that differs.`, 1008),
  /** Accept names no representation the entrypoint offers. */
  notAcceptable: (offered: string) =>
    new GatewayError('NOT_ACCEPTABLE', 400, `Accept must allow one of: ${offered}.`, 1008),
  /** A stream outlives no credential. */
  credentialExpired: () => new GatewayError('CREDENTIAL_EXPIRED', 401, 'The credential expired.', 1008),
  /** The API changed or stopped in a deploy: clients reconnect (WebSocket 1012). */
  serviceRestart: () => new GatewayError('SERVICE_RESTART', 503, 'The API was redeployed; reconnect.', 1012),
  /** The API is in the bundle but failed to build on this gateway (see the log and /status). */
  apiUnavailable: () => new GatewayError('API_UNAVAILABLE', 503, 'The API is not available on this gateway right now.', 1011),
  /** The client went away first (logged as status 499; WebSocket 1001). */
  clientGone: () => new GatewayError('CLIENT_GONE', 499, 'The client closed the connection.', 1001),
  /** The gateway is shutting down (WebSocket 1013). */
  gatewayStopping: () => new GatewayError('GATEWAY_STOPPING', 503, 'The gateway is stopping; reconnect later.', 1013),
  /**
   * Too many clients resume from a cursor at once on this API (each reads with a consumer of its
   * own): retry later (HTTP 503 + Retry-After, WebSocket 1013).
   */
  resumeCapacity: (limit: number, retryAfterSeconds: number) =>
    new GatewayError('RESUME_CAPACITY', 503, `${limit} clients are resuming from a cursor on this API already; retry later.`, 1013,
      { 'Retry-After': String(retryAfterSeconds) }),
  /**
   * A new channel would open one upstream subscription more than `fanout.maxChannels` (a Kafka topic
   * per parameter value): retry later (HTTP 503 + Retry-After, WebSocket 1013).
   */
  channelCapacity: (limit: number) =>
    new GatewayError('CHANNEL_CAPACITY', 503, `${limit} channels of this API have an upstream subscription open already (fanout.maxChannels); retry later.`, 1013,
      { 'Retry-After': '5' }),
  /** The client did not keep up with the messages of a shared subscription (WebSocket 1013). */
  slowConsumer: (queueSize: number) =>
    new GatewayError('SLOW_CONSUMER', 503, `The client fell ${queueSize} messages behind and was disconnected.`, 1013),
  /** The same, at the byte bound (fanout.maxQueuedBytes) before the message count bound. */
  slowConsumerBytes: (maxQueuedBytes: number) =>
    new GatewayError('SLOW_CONSUMER', 503, `The client fell ${maxQueuedBytes} bytes behind and was disconnected.`, 1013),
} as const;

/** The close code for why a stream ended: a GatewayError's closeCode, else 1011. */
export function closeCodeOf(reason: unknown): number {
  return reason instanceof GatewayError ? reason.closeCode : 1011;
}

/** Any thrown value as a GatewayError (unknown errors become a 500 without details). */
export function asGatewayError(error: unknown): GatewayError {
  return error instanceof GatewayError ? error : new GatewayError('INTERNAL', 500, 'Internal gateway error.', 1011);
}
