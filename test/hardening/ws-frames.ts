/**
 * Raw WebSocket frames for the hardening tests: a handshake over a plain TCP socket, a frame
 * encoder that writes whatever it is told (any opcode, RSV bits, masked or not, a declared length
 * that differs from the payload), and a reader of the server's frames (close code, pongs).
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

export interface RawFrame {
  readonly fin: boolean;
  /** 0..7, the RSV1-3 bits. */
  readonly rsv: number;
  /** 0..15 (3-7 and 11-15 are reserved). */
  readonly opcode: number;
  /** Null: unmasked (a protocol error from a client). */
  readonly mask: Buffer | null;
  readonly payload: Buffer;
  /** The length written in the header; defaults to the payload's (a larger one leaves the frame incomplete). */
  readonly declaredLength?: number;
}

export function encodeFrame(frame: RawFrame): Buffer {
  const length = frame.declaredLength ?? frame.payload.length;
  const head: number[] = [(frame.fin ? 0x80 : 0) | ((frame.rsv & 7) << 4) | (frame.opcode & 15)];
  const maskBit = frame.mask ? 0x80 : 0;
  if (length < 126) head.push(maskBit | length);
  else if (length < 65536) head.push(maskBit | 126, length >> 8, length & 255);
  else {
    head.push(maskBit | 127);
    const big = Buffer.alloc(8);
    big.writeBigUInt64BE(BigInt(length));
    head.push(...big);
  }
  const payload = Buffer.from(frame.payload);
  if (frame.mask) for (let i = 0; i < payload.length; i += 1) payload[i]! ^= frame.mask[i & 3]!;
  return Buffer.concat([Buffer.from(head), frame.mask ?? Buffer.alloc(0), payload]);
}

/** A valid masked client frame. */
export const clientFrame = (opcode: number, payload: Buffer | string): Buffer =>
  encodeFrame({ fin: true, rsv: 0, opcode, mask: randomBytes(4), payload: Buffer.from(payload) });

export interface ServerFrames {
  readonly socket: Socket;
  /** Opcodes of the complete frames received so far. */
  readonly opcodes: number[];
  /** The code of the server's close frame (1005 when it carried none), once one arrived. */
  closeCode(): number | undefined;
  /** Resolves when the TCP connection ended. */
  readonly ended: Promise<void>;
  isEnded(): boolean;
}

/** Opens a WebSocket to `path` by hand; resolves once the 101 arrived (rejects with the status line otherwise). */
export function rawWebSocket(port: number, path: string, headers: Record<string, string> = {}): Promise<ServerFrames> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' });
    let buffered = Buffer.alloc(0);
    let upgraded = false;
    let close: number | undefined;
    let ended = false;
    const opcodes: number[] = [];
    let markEnded: () => void;
    const endedPromise = new Promise<void>((done) => (markEnded = done));
    const finish = () => {
      ended = true;
      markEnded();
      if (!upgraded) reject(new Error('the connection ended before the handshake answer'));
    };
    socket.on('error', finish).on('end', finish).on('close', finish);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]).subarray(-(2 * 1024 * 1024));
      if (!upgraded) {
        const headEnd = buffered.indexOf('\r\n\r\n');
        if (headEnd < 0) return;
        const status = buffered.subarray(0, buffered.indexOf('\r\n')).toString('latin1');
        if (!/^HTTP\/1\.1 101/.test(status)) return reject(new Error(`handshake refused: ${status}`));
        upgraded = true;
        buffered = buffered.subarray(headEnd + 4);
        resolve({ socket, opcodes, closeCode: () => close, ended: endedPromise, isEnded: () => ended });
      }
      // Server frames: never masked; lengths are small here (messages and control frames).
      for (;;) {
        if (buffered.length < 2) return;
        let length = buffered[1]! & 0x7f;
        let at = 2;
        if (length === 126) {
          if (buffered.length < 4) return;
          length = buffered.readUInt16BE(2);
          at = 4;
        } else if (length === 127) {
          if (buffered.length < 10) return;
          length = Number(buffered.readBigUInt64BE(2));
          at = 10;
        }
        if (buffered.length < at + length) return;
        const opcode = buffered[0]! & 0x0f;
        opcodes.push(opcode);
        if (opcode === 8) close = length >= 2 ? buffered.readUInt16BE(at) : 1005;
        buffered = buffered.subarray(at + length);
      }
    });
    const key = randomBytes(16).toString('base64');
    const lines = [`GET ${path} HTTP/1.1`, 'Host: gateway', 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Key: ${key}`, 'Sec-WebSocket-Version: 13',
      ...Object.entries(headers).map(([n, v]) => `${n}: ${v}`)];
    socket.once('connect', () => socket.write(`${lines.join('\r\n')}\r\n\r\n`));
  });
}

/** Close codes a server may send (RFC 6455 7.4; 1004-1006 and 1015 never go on the wire). */
export function isValidCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}
