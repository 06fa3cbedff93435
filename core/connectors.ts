/**
 * Connector capabilities, declared once: what each endpoint type of the schema can do. The table
 * is total over the schema's endpoint `type` union, so a new endpoint type without an entry fails
 * to compile; the compiler's checks read it through publishes / subscribes / resumes.
 */
import type { Endpoint } from '../schemas/types.ts';

export interface EndpointCapabilities<Config> {
  /** Client -> broker: it has an enabled producer (the mock always publishes). */
  publishes(config: Config): boolean;
  /** Broker -> client: it has an enabled consumer (the mock always subscribes). */
  subscribes(config: Config): boolean;
  /** It can resume from a message id (cursor / Last-Event-ID). */
  readonly resumes: boolean;
}

const enabled = (part: { readonly enabled?: boolean } | undefined): boolean => part !== undefined && part.enabled !== false;

export const ENDPOINT_CAPABILITIES: { readonly [K in Endpoint['type']]: EndpointCapabilities<Extract<Endpoint, { type: K }>> } = {
  mock: { publishes: () => true, subscribes: () => true, resumes: true },
  kafka: { publishes: (config) => enabled(config.producer), subscribes: (config) => enabled(config.consumer), resumes: true },
  mqtt: { publishes: (config) => enabled(config.producer), subscribes: (config) => enabled(config.consumer), resumes: false },
};

const capabilities = (endpoint: Endpoint): EndpointCapabilities<Endpoint> => ENDPOINT_CAPABILITIES[endpoint.type] as EndpointCapabilities<Endpoint>;

export const publishes = (endpoint: Endpoint): boolean => capabilities(endpoint).publishes(endpoint);
export const subscribes = (endpoint: Endpoint): boolean => capabilities(endpoint).subscribes(endpoint);
export const resumes = (endpoint: Endpoint): boolean => capabilities(endpoint).resumes;
