/** CORS: "*" cannot be combined with credentials (browsers refuse it). */
import { diagnosticAt, type Diagnostic } from '../diagnostic.ts';
import type { ApiModel } from './model.ts';

export function checkCors(model: ApiModel): Diagnostic[] {
  const cors = model.api?.value.cors;
  if (!model.api || !cors) return [];
  const wildcard = cors.allowOrigins.indexOf('*');
  if (wildcard >= 0 && cors.allowCredentials === true) {
    return [diagnosticAt(model.api.file, `/cors/allowOrigins/${wildcard}`, 'CORS_WILDCARD_CREDENTIALS', 'allowOrigins "*" cannot be combined with allowCredentials true; list the origins instead')];
  }
  return [];
}
