/**
 * Admin port routes for webhook subscriptions of this runtime instance:
 *
 *   GET  /subscriptions                      every running webhook subscription and its status
 *   POST /subscriptions/NAME/resume[?api=API] leaves state `failure`; the held message is retried
 *
 * Resume answers 200 `{api, subscription, resumed, state}` (`resumed: false` when it was not in
 * failure), 404 when no running subscription has that name (on that API), 409 when several APIs
 * have one and `api` is missing. Resuming acts on this instance only: resume every instance, or
 * redeploy.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { json, type AdminRoute } from '../../http/admin.ts';
import type { WebhookSubscriptions } from './subscriptions.ts';

function list(table: WebhookSubscriptions, res: ServerResponse): void {
  const subscriptions = table
    .list()
    .map((subscription) => ({ api: subscription.apiId, subscription: subscription.name, ...subscription.status() }));
  json(res, 200, { subscriptions });
}

function resume(table: WebhookSubscriptions, req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://admin');
  const match = /^\/subscriptions\/([^/]+)\/resume\/?$/.exec(url.pathname);
  const name = match ? decodeURIComponent(match[1]!) : '';
  const api = url.searchParams.get('api');
  const candidates = table
    .list()
    .filter((subscription) => subscription.name === name && (api === null || subscription.apiId === api));
  if (candidates.length === 0) {
    return json(res, 404, { code: 'SUBSCRIPTION_NOT_FOUND', message: `no running webhook subscription "${name}"${api ? ` on API ${api}` : ''}` });
  }
  if (candidates.length > 1) {
    return json(res, 409, { code: 'SUBSCRIPTION_AMBIGUOUS', message: `subscription "${name}" exists on several APIs: give ?api=`, apis: candidates.map((s) => s.apiId) });
  }
  const subscription = candidates[0]!;
  const resumed = subscription.resume();
  json(res, 200, { api: subscription.apiId, subscription: subscription.name, resumed, state: subscription.state });
}

/** The routes over one gateway's webhook table. */
export function webhookAdminRoutes(table: WebhookSubscriptions): readonly AdminRoute[] {
  return [
    { method: 'GET', path: '/subscriptions', handle: (_req, res) => list(table, res) },
    { method: 'POST', path: '/subscriptions/:name/resume', handle: (req, res) => resume(table, req, res) },
  ];
}
