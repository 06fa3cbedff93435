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
} as const;
