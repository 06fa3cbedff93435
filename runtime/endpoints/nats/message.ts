/**
 * NATS messages <-> Sluice messages. Headers: each NATS header becomes a message header (several
 * values joined with ","), and back. Metadata: subject; with a stream also stream and sequence
 * (the sequence, as a decimal string, is the message id and cursor).
 */
import { headers as natsHeaders, type MsgHdrs } from '@nats-io/transport-node';
import type { Message } from '../../../core/message.ts';
import { errors } from '../../../core/errors.ts';

export function fromHeaders(hdrs: MsgHdrs | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!hdrs) return out;
  for (const [name, values] of hdrs) out[name] = values.join(',');
  return out;
}

/** NATS headers for a publish; undefined when there are none. A name or value NATS cannot carry is a 400. */
export function toHeaders(headers: Readonly<Record<string, string>>): MsgHdrs | undefined {
  const names = Object.keys(headers);
  if (names.length === 0) return undefined;
  const out = natsHeaders();
  for (const name of names) {
    try {
      out.set(name, headers[name]!);
    } catch (error) {
      throw errors.badRequest('INVALID_HEADER', `NATS cannot carry the header ${JSON.stringify(name)}: ${(error as Error).message}`);
    }
  }
  return out;
}

export function coreMessage(id: string, subject: string, data: Uint8Array, hdrs: MsgHdrs | undefined): Message {
  return Object.freeze({
    id,
    content: Buffer.from(data.buffer, data.byteOffset, data.byteLength),
    headers: Object.freeze(fromHeaders(hdrs)),
    metadata: Object.freeze({ subject }),
    timestamp: Date.now(),
  });
}

export function streamMessage(stream: string, seq: number, subject: string, data: Uint8Array, hdrs: MsgHdrs | undefined, timestampNanos?: number): Message {
  return Object.freeze({
    id: String(seq),
    content: Buffer.from(data.buffer, data.byteOffset, data.byteLength),
    headers: Object.freeze(fromHeaders(hdrs)),
    metadata: Object.freeze({ subject, stream, sequence: seq }),
    timestamp: timestampNanos !== undefined ? Math.floor(timestampNanos / 1e6) : Date.now(),
  });
}
