/**
 * A raw TCP client for the hardening tests: writes any bytes (valid HTTP or not) and reads the
 * answers back as they arrive — status, headers and body of each response (Content-Length,
 * chunked, or until the connection ends) — and when the server closed the connection.
 */
import { connect, type Socket } from 'node:net';

export interface RawAnswer {
  readonly status: number;
  /** Lower-case names; repeated headers joined with ", ". */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface RawConnection {
  readonly socket: Socket;
  /** Complete answers parsed so far, in order. */
  readonly answers: RawAnswer[];
  /** Resolves once the server ended or the socket closed (for any reason), with the time it happened. */
  readonly ended: Promise<number>;
  /** The first socket error (EPIPE, ECONNRESET, …), if any. */
  error(): NodeJS.ErrnoException | undefined;
  /** Resolves with answer number `index` (0-based), or rejects after `ms` or when the connection ends without it. */
  answer(index: number, ms: number): Promise<RawAnswer>;
  /** Writes; resolves false instead of throwing when the socket is gone. */
  write(data: string | Buffer): Promise<boolean>;
}

/** Most bytes of answers kept per connection (a stream answer is cut there). */
const MAX_RECEIVED = 1024 * 1024;

export function rawConnect(port: number, host = '127.0.0.1'): Promise<RawConnection> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host });
    let received = Buffer.alloc(0);
    let firstError: NodeJS.ErrnoException | undefined;
    let gone = false;
    const answers: RawAnswer[] = [];
    const waiters = new Set<() => void>();
    const wake = () => waiters.forEach((w) => w());
    let endedAt: (at: number) => void;
    const ended = new Promise<number>((done) => (endedAt = done));
    const finish = () => {
      if (gone) return;
      gone = true;
      const tail = parse(received, true);
      if (tail) answers.push(tail.answer);
      endedAt(Date.now());
      wake();
    };
    socket.on('data', (chunk: Buffer) => {
      if (received.length < MAX_RECEIVED) received = Buffer.concat([received, chunk]);
      for (let next = parse(received, false); next; next = parse(received, false)) {
        answers.push(next.answer);
        received = received.subarray(next.length);
      }
      wake();
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      firstError ??= error;
      finish();
    });
    socket.on('end', finish);
    socket.on('close', finish);
    socket.once('connect', () =>
      resolve({
        socket,
        answers,
        ended,
        error: () => firstError,
        answer: (index, ms) =>
          new Promise((done, fail) => {
            const check = () => {
              if (answers[index]) return settle(() => done(answers[index]!));
              if (gone) return settle(() => fail(new Error(`the connection ended after ${answers.length} answer(s), before answer ${index}`)));
            };
            const timer = setTimeout(() => settle(() => fail(new Error(`no answer ${index} within ${ms} ms`))), ms);
            const settle = (then: () => void) => {
              clearTimeout(timer);
              waiters.delete(check);
              then();
            };
            waiters.add(check);
            check();
          }),
        write: (data) =>
          new Promise((done) => {
            if (gone || socket.destroyed || !socket.writable) return done(false);
            socket.write(data, (error) => done(!error));
          }),
      }),
    );
    socket.once('error', reject);
  });
}

/** One complete response at the start of `bytes` and its length, or null; `atEnd`: the connection ended (read-to-end body). */
function parse(bytes: Buffer, atEnd: boolean): { answer: RawAnswer; length: number } | null {
  const headEnd = bytes.indexOf('\r\n\r\n');
  if (headEnd < 0) return null;
  const [statusLine = '', ...lines] = bytes.subarray(0, headEnd).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  const start = headEnd + 4;
  if (status === 101 || status === 204 || status === 304 || (status >= 100 && status < 200)) {
    return { answer: { status, headers, body: '' }, length: start };
  }
  if (headers['content-length'] !== undefined) {
    const end = start + Number(headers['content-length']);
    if (bytes.length < end) return atEnd ? { answer: { status, headers, body: bytes.subarray(start).toString('utf8') }, length: bytes.length } : null;
    return { answer: { status, headers, body: bytes.subarray(start, end).toString('utf8') }, length: end };
  }
  if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
    const parts: Buffer[] = [];
    let at = start;
    for (;;) {
      const lineEnd = bytes.indexOf('\r\n', at);
      if (lineEnd < 0) break;
      const size = parseInt(bytes.subarray(at, lineEnd).toString('latin1'), 16);
      if (!Number.isFinite(size)) break;
      if (size === 0) {
        const trailerEnd = bytes.indexOf('\r\n', lineEnd + 2);
        if (trailerEnd < 0) break;
        return { answer: { status, headers, body: Buffer.concat(parts).toString('utf8') }, length: trailerEnd + 2 };
      }
      if (bytes.length < lineEnd + 2 + size + 2) break;
      parts.push(bytes.subarray(lineEnd + 2, lineEnd + 2 + size));
      at = lineEnd + 2 + size + 2;
    }
    return atEnd ? { answer: { status, headers, body: Buffer.concat(parts).toString('utf8') }, length: bytes.length } : null;
  }
  return atEnd ? { answer: { status, headers, body: bytes.subarray(start).toString('utf8') }, length: bytes.length } : null;
}
