/**
 * websocket keepalive (see websocket.ts): the server pings every client each interval, and a client
 * that let two pings go unanswered is terminated at the next. One timer and one pong listener per
 * entrypoint for all its clients (not a timer and a closure per client), running while any is open.
 */
import type { WebSocket } from 'ws';

export class Keepalive {
  /** Pings each client has not answered yet. */
  readonly #missed = new Map<WebSocket, number>();
  readonly #onPong: (this: WebSocket) => void;
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly intervalMs: number) {
    const missed = this.#missed;
    this.#onPong = function (this: WebSocket) {
      if (missed.has(this)) missed.set(this, 0);
    };
  }

  add(ws: WebSocket): void {
    this.#missed.set(ws, 0);
    ws.on('pong', this.#onPong);
    if (this.#timer) return;
    this.#timer = setInterval(() => this.#tick(), this.intervalMs);
    this.#timer.unref();
  }

  delete(ws: WebSocket): void {
    if (!this.#missed.delete(ws)) return;
    ws.off('pong', this.#onPong);
    if (this.#missed.size > 0 || this.#timer === undefined) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #tick(): void {
    for (const [ws, missed] of this.#missed) {
      if (missed >= 2) {
        ws.terminate();
        continue;
      }
      this.#missed.set(ws, missed + 1);
      ws.ping();
    }
  }
}
