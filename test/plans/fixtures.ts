/** Shared helpers for the plan tests: request views, keys and hashes. */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { RequestView } from '../../runtime/plans/plan.ts';

export function request(headers: IncomingHttpHeaders = {}, query = '', remoteAddress = '127.0.0.1'): RequestView {
  return { headers, query: new URLSearchParams(query), remoteAddress };
}

export function newApiKey(): { key: string; hash: string } {
  const key = randomBytes(24).toString('base64url');
  return { key, hash: createHash('sha256').update(key).digest('hex') };
}

/** Resolves a GatewayError-throwing promise to {status, code}; fails if it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<{ status: number; code: string; headers: Record<string, string> }> {
  try {
    await promise;
  } catch (error) {
    const e = error as { status: number; code: string; headers: Record<string, string> };
    return { status: e.status, code: e.code, headers: e.headers };
  }
  throw new Error('expected a rejection, but the promise resolved');
}
