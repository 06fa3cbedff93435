/**
 * The gateway port's per-request listeners, made so that nothing they hold lives longer than it
 * must: a stream's listeners live as long as it does (server.ts).
 */
import type { ServerResponse } from 'node:http';
import type { Connection } from '../connections.ts';
import { log } from '../log.ts';
import { clientGone, type Visit } from './visit.ts';

/**
 * The listeners of a server's responses: one function each for every response (not a closure per
 * request, with its scope: about 0.2 KB per SSE stream), finding the response's visit in a WeakMap.
 */
export class ResponseListeners {
  readonly #visits = new WeakMap<ServerResponse, Visit>();
  /** A response error (the client's socket failed): logged at debug. */
  readonly failed: (this: ServerResponse, error: Error) => void;
  /** The client went away (or the response ended): the request's connection, if open, aborts with CLIENT_GONE. */
  readonly closed: (this: ServerResponse) => void;

  constructor() {
    const visits = this.#visits;
    this.failed = function failed(this: ServerResponse, error: Error): void {
      visits.get(this)?.log.debug({ err: error.message }, 'response error');
    };
    this.closed = function closed(this: ServerResponse): void {
      visits.get(this)?.connection?.abort(clientGone());
    };
  }

  /** A new request: its visit, and the error listener (`closed` is added once the request has a connection). */
  watch(res: ServerResponse, visit: Visit): void {
    this.#visits.set(res, visit);
    res.on('error', this.failed);
  }
}

/** A socket's `error` listener in the upgrade path: its closure holds the path alone, not the request. */
export function socketFailed(path: string): (error: Error) => void {
  return (error) => log.debug({ err: error.message, path }, 'socket error in upgrade');
}

/** A handshake's socket closing aborts its connection with CLIENT_GONE (a closure over the connection alone). */
export function abortsOnClose(connection: Connection): () => void {
  return () => connection.abort(clientGone());
}
