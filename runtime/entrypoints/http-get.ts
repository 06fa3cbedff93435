/**
 * http-get: subscribe by long poll. One response holds the messages that arrive until
 * `messagesLimitCount` (query `limit` may only lower it) or `messagesLimitDurationMs`, whichever
 * comes first, or until the items hold `fanout.maxQueuedBytes` content bytes (at least one item);
 * query `cursor` resumes after that message id. The body format follows `Accept`
 * (q-values): application/json (also for * / *), application/xml, text/plain (also when Accept is
 * missing); anything else 400. A client that goes away releases its subscription at once; a
 * deploy or shutdown ends the poll early with what it has.
 */
import { isUtf8 } from 'node:buffer';
import type { HttpGetEntrypoint } from '../../schemas/types.ts';
import type { Message } from '../../core/message.ts';
import type { EntrypointFactory } from './entrypoint.ts';
import { SPECIFICITY } from './entrypoint.ts';
import { errors } from '../../core/errors.ts';

export type Format = 'json' | 'xml' | 'text';

const OFFERED: readonly [Format, string][] = [
  ['json', 'application/json'],
  ['xml', 'application/xml'],
  ['text', 'text/plain'],
];

/** Picks the representation for an Accept header; throws a 400 GatewayError when none is acceptable. */
export function negotiate(accept: string | undefined): Format {
  if (accept === undefined || accept.trim() === '') return 'text';
  const ranges = accept.split(',').map((part) => {
    const [range = '', ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    let q = 1;
    for (const param of params) {
      const [name, value] = param.split('=').map((s) => s.trim());
      if (name === 'q') q = Number.isFinite(Number(value)) ? Math.min(1, Math.max(0, Number(value))) : 0;
    }
    return { range, q };
  });
  let best: { format: Format; q: number } | undefined;
  for (const [format, type] of OFFERED) {
    const [major] = type.split('/');
    // The most specific matching range decides this type's q.
    let q = -1;
    let specificity = -1;
    for (const { range, q: rq } of ranges) {
      const s = range === type ? 2 : range === `${major}/*` ? 1 : range === '*/*' ? 0 : -1;
      if (s > specificity) {
        specificity = s;
        q = rq;
      }
    }
    if (q > 0 && (!best || q > best.q)) best = { format, q };
  }
  if (!best) throw errors.notAcceptable(OFFERED.map(([, type]) => type).join(', '));
  return best.format;
}

function parseLimit(value: string | null): number | undefined {
  if (value === null) return undefined;
  if (!/^[1-9][0-9]{0,8}$/.test(value)) throw errors.badRequest('INVALID_LIMIT', 'Query parameter limit must be a positive integer.');
  return Number(value);
}

interface Options {
  readonly headers: boolean;
  readonly metadata: boolean;
}

function textOf(content: Buffer): { text: string; base64: boolean } {
  return isUtf8(content) ? { text: content.toString('utf8'), base64: false } : { text: content.toString('base64'), base64: true };
}

function jsonBody(items: readonly Message[], nextCursor: string | undefined, options: Options): string {
  return JSON.stringify({
    items: items.map((m) => {
      const { text, base64 } = textOf(m.content);
      return {
        id: m.id,
        content: text,
        ...(base64 ? { contentEncoding: 'base64' } : {}),
        ...(options.headers ? { headers: m.headers } : {}),
        ...(options.metadata ? { metadata: m.metadata } : {}),
      };
    }),
    pagination: nextCursor === undefined ? {} : { nextCursor },
  });
}

const xmlEscape = (s: string): string =>
  s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!)
    // Characters XML 1.0 cannot carry at all.
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '');

function xmlBody(items: readonly Message[], nextCursor: string | undefined, options: Options): string {
  const entries = (tag: string, record: Readonly<Record<string, unknown>>) =>
    `<${tag}s>${Object.entries(record).map(([k, v]) => `<${tag} name="${xmlEscape(k)}">${xmlEscape(String(v))}</${tag}>`).join('')}</${tag}s>`;
  const body = items.map((m) => {
    const { text, base64 } = textOf(m.content);
    return `<item><id>${xmlEscape(m.id)}</id><content${base64 ? ' encoding="base64"' : ''}>${xmlEscape(text)}</content>` +
      `${options.headers ? entries('header', m.headers) : ''}${options.metadata ? entries('metadata', m.metadata) : ''}</item>`;
  });
  const cursor = nextCursor === undefined ? '' : `<nextCursor>${xmlEscape(nextCursor)}</nextCursor>`;
  return `<?xml version="1.0" encoding="UTF-8"?>\n<response><items>${body.join('')}</items><pagination>${cursor}</pagination></response>`;
}

function textBody(items: readonly Message[], nextCursor: string | undefined, options: Options): string {
  const lines = ['items:'];
  for (const m of items) {
    lines.push('item:', `id: ${m.id}`, `content: ${textOf(m.content).text}`);
    if (options.headers) lines.push(`headers: ${JSON.stringify(m.headers)}`);
    if (options.metadata) lines.push(`metadata: ${JSON.stringify(m.metadata)}`);
  }
  lines.push('pagination:');
  if (nextCursor !== undefined) lines.push(`nextCursor: ${nextCursor}`);
  return `${lines.join('\n')}\n`;
}

const ENCODERS: Record<Format, { type: string; encode: typeof jsonBody }> = {
  json: { type: 'application/json', encode: jsonBody },
  xml: { type: 'application/xml; charset=utf-8', encode: xmlBody },
  text: { type: 'text/plain; charset=utf-8', encode: textBody },
};

export const createHttpGetEntrypoint: EntrypointFactory<HttpGetEntrypoint> = (config, context) => {
  const maxCount = config.messagesLimitCount ?? 500;
  const maxBytes = context.api.definition.fanout?.maxQueuedBytes ?? 1024 * 1024;
  const maxDurationMs = config.messagesLimitDurationMs ?? 5000;
  const options: Options = { headers: config.headersInPayload ?? false, metadata: config.metadataInPayload ?? false };

  return {
    type: 'http-get',
    specificity: SPECIFICITY.method,
    accepts: (req, upgrade) => !upgrade && req.method === 'GET',
    async handle({ exchange, caller, url, req, res, connection }) {
      const format = negotiate(req.headers.accept);
      const count = Math.min(maxCount, parseLimit(url.searchParams.get('limit')) ?? maxCount);
      const cursor = url.searchParams.get('cursor') || undefined;

      const items: Message[] = [];
      let bytes = 0;
      let failure: unknown;
      const poll = new AbortController();
      // The poll covers [now, deadline): a message arriving at the deadline (a timer racing the
      // duration timer) belongs to the next poll, which resumes after nextCursor.
      const deadline = Date.now() + maxDurationMs;
      const timer = setTimeout(() => poll.abort(), maxDurationMs);
      const stop = () => poll.abort();
      connection.addEventListener('abort', stop);
      try {
        if (connection.aborted) poll.abort();
        for await (const delivery of exchange.subscribe(caller, { cursor, signal: poll.signal })) {
          if (Date.now() >= deadline) break;
          items.push(delivery.message);
          bytes += delivery.message.content.length;
          connection.messages++;
          if (items.length >= count || bytes >= maxBytes || poll.signal.aborted) break;
        }
      } catch (error) {
        failure = error;
      } finally {
        clearTimeout(timer);
        connection.removeEventListener('abort', stop);
        poll.abort();
      }
      if (res.destroyed || !res.writable) return;
      if (failure !== undefined && items.length === 0) throw failure;

      const nextCursor = items.length > 0 ? items[items.length - 1]!.id : cursor;
      const encoder = ENCODERS[format];
      const body = encoder.encode(items, nextCursor, options);
      res.statusCode = 200;
      res.setHeader('Content-Type', encoder.type);
      res.setHeader('Content-Length', Buffer.byteLength(body));
      res.setHeader('Cache-Control', 'no-store');
      res.end(body);
    },
  };
};
