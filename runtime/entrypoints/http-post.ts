/**
 * http-post: publish by HTTP POST. The body (bytes, as sent) becomes exactly one message; the
 * answer is 202 once the endpoint acknowledged it (per its acks/QoS), with an empty body.
 *
 * - Body over `maxBodyBytes`: 413. A declared Content-Length over the limit is refused before
 *   reading; a chunked body is counted while it streams and refused the moment it passes the
 *   limit, so no more than the limit is ever held in memory. The connection then closes (the rest
 *   of the body is not read).
 * - `requestHeadersToMessage`: request headers become message headers (lower-case names), except
 *   hop-by-hop headers, Host, Content-Length, and every credential (Authorization, Cookie,
 *   Proxy-Authorization, X-Api-Key and the API's configured api-key header). Off: only
 *   `content-type` is kept.
 * - `Expect: 100-continue`: the 100 is sent here, once admitted; a refused request never gets it.
 * - Endpoint unavailable (broker down): 503 with a JSON body `{code: "ENDPOINT_UNAVAILABLE",
 *   message, status}` and `Retry-After`, before the body is read.
 * - A publish flow that drops the message still answers 202 (accepted, then filtered by policy).
 */
import type { IncomingMessage } from 'node:http';
import type { HttpPostEntrypoint } from '../../schemas/types.ts';
import type { EntrypointFactory } from './entrypoint.ts';
import { SPECIFICITY } from './entrypoint.ts';
import { GatewayError, errors } from '../../core/errors.ts';
import { credentialHeaders } from '../../core/plans.ts';

const RETRY_AFTER_SECONDS = '5';

/** Never copied into a message: connection management and credentials. */
const EXCLUDED = [
  'connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'trailers', 'transfer-encoding', 'upgrade',
  'host', 'content-length', 'expect',
  'authorization', 'proxy-authorization', 'cookie', 'x-api-key',
];

function unavailable(): GatewayError {
  const base = errors.endpointUnavailable('the broker cannot be reached');
  return new GatewayError(base.code, base.status, base.message, base.closeCode, { 'Retry-After': RETRY_AFTER_SECONDS });
}

/** Reads the whole body, refusing it as soon as it passes `limit` bytes. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        req.pause();
        chunks.length = 0;
        reject(errors.payloadTooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(new GatewayError('CLIENT_GONE', 499, `The request body could not be read: ${error.message}`, 1001));
    };
    const onAborted = () => onError(new Error('the client aborted the request'));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
  });
}

export const createHttpPostEntrypoint: EntrypointFactory<HttpPostEntrypoint> = (config, context) => {
  const maxBodyBytes = config.maxBodyBytes ?? 1024 * 1024;
  const copyHeaders = config.requestHeadersToMessage ?? false;
  const excluded = new Set(EXCLUDED);
  for (const plan of Object.values(context.api.plans)) {
    for (const header of credentialHeaders(plan)) excluded.add(header);
  }

  const messageHeaders = (req: IncomingMessage): Record<string, string> => {
    const headers: Record<string, string> = {};
    if (!copyHeaders) {
      const type = req.headers['content-type'];
      if (type) headers['content-type'] = type;
      return headers;
    }
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined || excluded.has(name)) continue;
      headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    return headers;
  };

  return {
    type: 'http-post',
    specificity: SPECIFICITY.method,
    readsBody: true,
    accepts: (req, upgrade) => !upgrade && req.method === 'POST',
    async handle({ exchange, caller, req, res, connection }) {
      const declared = req.headers['content-length'];
      // Refused before the body is read whole: the error answer closes the connection (writeError).
      if (declared !== undefined && Number(declared) > maxBodyBytes) throw errors.payloadTooLarge(maxBodyBytes);
      if (exchange.publishEndpoint && !exchange.publishEndpoint.health().healthy) throw unavailable();
      if (req.httpVersion === '1.1' && /(?:^|\W)100-continue(?:$|\W)/i.test(req.headers.expect ?? '')) res.writeContinue();
      const content = await readBody(req, maxBodyBytes);
      try {
        // The request was already counted against the rate limit when it was admitted: count it once.
        await exchange.publish(caller, { content, headers: messageHeaders(req), metadata: {} }, { admitted: true });
      } catch (error) {
        if (error instanceof GatewayError && error.code === 'ENDPOINT_UNAVAILABLE') throw unavailable();
        throw error;
      }
      connection.messages++;
      res.statusCode = 202;
      res.setHeader('Content-Length', '0');
      res.end();
    },
  };
};
