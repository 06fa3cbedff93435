/**
 * The gateway's registry: one implementation per entrypoint, endpoint and plan type of the schema.
 * Each part is a total mapped type over the schema's `type` union, so adding a type to a schema
 * without an implementation fails to compile. startGateway takes one (default: the built-ins);
 * tests pass their own, e.g. `{ ...builtInRegistry, endpoints: { ...builtInRegistry.endpoints, kafka: counting } }`.
 */
import type { EndpointFactories } from './endpoints/endpoint.ts';
import type { EntrypointFactories } from './entrypoints/entrypoint.ts';
import type { PlanFactories } from './plans/plan.ts';
import { endpointFactories } from './endpoints/registry.ts';
import { entrypointFactories } from './entrypoints/registry.ts';
import { planFactories } from './plans/registry.ts';

export interface Registry {
  readonly entrypoints: EntrypointFactories;
  readonly endpoints: EndpointFactories;
  readonly plans: PlanFactories;
}

export const builtInRegistry: Registry = { entrypoints: entrypointFactories, endpoints: endpointFactories, plans: planFactories };
