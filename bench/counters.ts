/**
 * Cheap subscribers for the saturation profile (in the client process): raw loopback sockets that
 * count what arrives without decoding it, so the clients cost as little as possible per message.
 *
 * - WebSocket: the HTTP upgrade by hand, then frame headers only (text and binary frames are
 *   counted, payloads skipped; a ping gets an empty pong; a close frame ends the count).
 * - SSE: a GET with `Accept: text/event-stream`; every `data: ` on the stream is one event (the
 *   benchmark payload never contains it), matches split across reads included.
 */
import net from 'node:net';

export interface Counter {
  frames: number;
  closed: boolean;
  close(): void;
  readonly done: Promise<void>;
}

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const PONG = Buffer.from([0x8a, 0x80, 0, 0, 0, 0]); // masked (all-zero key), empty
const DATA = Buffer.from('data: ');
/** Bytes of the HTTP response head read at most before giving up on it. */
const MAX_HEAD = 16_384;

function connect(url: URL, request: string, onBody: (chunk: Buffer, counter: Counter, socket: net.Socket) => void): Promise<Counter> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(url.port), url.hostname);
    socket.setNoDelay(true);
    let closed!: () => void;
    const counter: Counter = { frames: 0, closed: false, close: () => socket.destroy(), done: new Promise((r) => (closed = r)) };
    let head: Buffer | undefined = Buffer.alloc(0);
    socket.on('connect', () => socket.write(request));
    socket.on('data', (chunk: Buffer) => {
      if (!head) return onBody(chunk, counter, socket);
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) {
        if (head.length > MAX_HEAD) socket.destroy(new Error('response head too large'));
        return;
      }
      const status = head.toString('latin1', 0, head.indexOf('\r\n'));
      if (!/^HTTP\/1\.1 (101|200) /.test(status)) {
        socket.destroy();
        return reject(new Error(`${url.pathname} answered ${status}`));
      }
      const rest = head.subarray(end + 4);
      head = undefined;
      resolve(counter);
      if (rest.length) onBody(rest, counter, socket);
    });
    socket.on('error', reject);
    socket.on('close', () => {
      counter.closed = true;
      closed();
      reject(new Error(`${url.pathname}: connection closed before the response`));
    });
  });
}

/** A WebSocket subscriber counting server frames (unmasked, as RFC 6455 requires of servers). */
export function countWebSocket(target: string): Promise<Counter> {
  const url = new URL(target);
  let skip = 0;
  let partial: Buffer | undefined;
  return connect(url, `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`, (chunk, counter, socket) => {
    const buf = partial ? Buffer.concat([partial, chunk]) : chunk;
    partial = undefined;
    let i = 0;
    while (i < buf.length) {
      if (skip > 0) {
        const take = Math.min(skip, buf.length - i);
        skip -= take;
        i += take;
        continue;
      }
      if (buf.length - i < 2) break;
      const opcode = buf[i]! & 0x0f;
      let length = buf[i + 1]! & 0x7f;
      let header = 2 + (buf[i + 1]! & 0x80 ? 4 : 0);
      if (length === 126) {
        header += 2;
        if (buf.length - i < header) break;
        length = buf.readUInt16BE(i + 2);
      } else if (length === 127) {
        header += 8;
        if (buf.length - i < header) break;
        length = Number(buf.readBigUInt64BE(i + 2));
      } else if (buf.length - i < header) break;
      if (opcode === 1 || opcode === 2) counter.frames++;
      else if (opcode === 9) socket.write(PONG);
      else if (opcode === 8) socket.end();
      i += header;
      skip = length;
    }
    if (i < buf.length) partial = Buffer.from(buf.subarray(i));
  });
}

/** An SSE subscriber counting `data: ` lines. */
export function countSse(target: string): Promise<Counter> {
  const url = new URL(target);
  let tail = Buffer.alloc(0);
  return connect(url, `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nAccept: text/event-stream\r\n\r\n`, (chunk, counter) => {
    let at = 0;
    while ((at = chunk.indexOf(DATA, at)) !== -1) {
      counter.frames++;
      at += DATA.length;
    }
    // A match split across two reads lies within the last 5 bytes before and the first 5 after.
    if (tail.length) {
      const joint = Buffer.concat([tail, chunk.subarray(0, DATA.length - 1)]);
      if (joint.indexOf(DATA) !== -1) counter.frames++;
    }
    tail = Buffer.from(chunk.subarray(Math.max(0, chunk.length - (DATA.length - 1))));
  });
}
