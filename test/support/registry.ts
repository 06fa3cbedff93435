/**
 * A gateway Registry for a test: the built-ins with some endpoint types replaced (e.g. a counting
 * endpoint under `kafka`, so bundles stay schema-valid). Pass it as `gatewayWith(bundle, { registry })`.
 */
import type { EndpointFactories } from '../../runtime/endpoints/endpoint.ts';
import { builtInRegistry, type Registry } from '../../runtime/registry.ts';
import type { EndpointFactory } from '../../runtime/endpoints/endpoint.ts';

export function registryWith(endpoints: { readonly [K in keyof EndpointFactories]?: EndpointFactory<any> }): Registry {
  return { ...builtInRegistry, endpoints: { ...builtInRegistry.endpoints, ...endpoints } as EndpointFactories };
}
