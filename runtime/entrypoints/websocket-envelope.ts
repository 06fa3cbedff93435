/**
 * The websocket entrypoint's `messageEnvelope` frames: one JSON text frame per message,
 * `{"id","content","contentEncoding"?,"headers","metadata"}`, the item shape of http-get's JSON
 * body. `content` is the text when the bytes are UTF-8, else base64 with `"contentEncoding":
 * "base64"`, so nothing is altered. The id is the message's cursor: a client reconnects with
 * `?cursor=<id>` and resumes strictly after it (Kafka, mock). Built once per message for every
 * client (Delivery memo, key ENVELOPE_KEY).
 */
import { isUtf8 } from 'node:buffer';
import type { Message } from '../../core/message.ts';

export const ENVELOPE_KEY = 'websocket:envelope';
/** ws send options of an envelope frame, shared by every frame. */
const TEXT = { binary: false } as const;

export function envelopeFrame(message: Message): { readonly data: Buffer; readonly options: typeof TEXT } {
  const utf8 = isUtf8(message.content);
  const json = JSON.stringify({
    id: message.id,
    content: message.content.toString(utf8 ? 'utf8' : 'base64'),
    ...(utf8 ? {} : { contentEncoding: 'base64' }),
    headers: message.headers,
    metadata: message.metadata,
  });
  return { data: Buffer.from(json, 'utf8'), options: TEXT };
}
