/**
 * Webhook subscriptions: a callbackUrl must not carry credentials (`https://user:pw@host/`):
 * they would sit in git in plain text (INLINE_SECRET). The callback authenticates with "auth"
 * and a secret reference instead. (http/https only is the schema's rule.)
 */
import { diagnosticAt, type Diagnostic } from '../diagnostic.ts';
import type { ApiModel } from './model.ts';

export function checkWebhooks(model: ApiModel): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const { file, value } of model.subscriptions.values()) {
    const callbackUrl = value.webhook?.callbackUrl;
    if (callbackUrl === undefined) continue;
    let url: URL;
    try {
      url = new URL(callbackUrl);
    } catch {
      continue; // the schema reports a malformed URI
    }
    if (url.username !== '' || url.password !== '') {
      out.push(diagnosticAt(file, '/webhook/callbackUrl', 'INLINE_SECRET', 'callbackUrl carries credentials (user:password@): use "auth": {"type": "basic", "username": "…", "password": {"env": "NAME"}} instead'));
    }
  }
  return out;
}
