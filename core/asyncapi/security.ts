/**
 * AsyncAPI security schemes of an API's plans, declared per plan type (a total table: a new plan type
 * without an entry fails to compile). api-key: `httpApiKey` in a header and in the query; jwt: `http`
 * bearer (JWT); keyless and push: none (keyless lets anyone call; push delivers to webhook callbacks).
 */
import type { Plan } from '../../schemas/types.ts';

export interface SecurityScheme {
  readonly type: 'httpApiKey' | 'http';
  readonly description: string;
  readonly name?: string;
  readonly in?: 'header' | 'query';
  readonly scheme?: 'bearer';
  readonly bearerFormat?: 'JWT';
}

type Schemes<Config> = (config: Config) => Record<string, SecurityScheme>;

export const PLAN_SCHEMES: { readonly [K in Plan['type']]: Schemes<Extract<Plan, { type: K }>> } = {
  keyless: () => ({}),
  push: () => ({}),
  'api-key': (plan) => ({
    header: { type: 'httpApiKey', in: 'header', name: plan.header ?? 'X-Api-Key', description: `API key of a subscription to plan "${plan.name}", in a header.` },
    query: { type: 'httpApiKey', in: 'query', name: plan.queryParam ?? 'api-key', description: `API key of a subscription to plan "${plan.name}", as a query parameter (for clients that cannot set headers: EventSource, browser WebSocket).` },
  }),
  jwt: (plan) => ({
    bearer: {
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
      description: `JWT (${plan.signature}${plan.issuer ? `, issuer ${plan.issuer}` : ''}${plan.audience ? `, audience ${plan.audience}` : ''}) of a subscribed client, as \`Authorization: Bearer <token>\`, plan "${plan.name}".`,
    },
  }),
};

export const planSchemes = (plan: Plan): Record<string, SecurityScheme> => (PLAN_SCHEMES[plan.type] as Schemes<Plan>)(plan);
