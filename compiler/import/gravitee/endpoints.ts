/**
 * Gravitee `api.endpointGroups` -> Sluice `endpoints`: the first endpoint of each kafka, mqtt5 or mock
 * group, its configuration merged over the group's `sharedConfiguration` (unless the endpoint
 * inherits none and overrides it). Passwords are never written: a `{"env": NAME}` reference stands in.
 */
import type { Endpoint } from '../../../schemas/types.ts';
import { asArray, envName, isEmpty, isObject, token, type Warnings } from './warnings.ts';

type Obj = Record<string, unknown>;
type Converter = (config: Obj, shared: Obj, at: { endpoint: string; shared: string }, warnings: Warnings, name: string) => Endpoint | undefined;

const obj = (value: unknown): Obj => (isObject(value) ? value : {});
/** Gravitee sometimes stores configurations as JSON text. */
const parsed = (value: unknown): Obj => {
  if (typeof value !== 'string') return obj(value);
  try {
    return obj(JSON.parse(value));
  } catch {
    return {};
  }
};

function copy(from: Obj, keys: readonly string[], to: Obj): void {
  for (const key of keys) if (from[key] !== undefined) to[key] = from[key];
}

const mock: Converter = (config, shared, at, warnings) => {
  const out: Obj = { type: 'mock' };
  copy(config, ['messageInterval', 'messageContent', 'messageCount'], out);
  const headers = namedValues(config.headers);
  if (headers) out.headers = headers;
  const metadata = namedValues(config.metadata);
  if (metadata) out.metadata = metadata;
  warnings.rest(at.endpoint, config, ['messageInterval', 'messageContent', 'messageCount', 'headers', 'metadata'], 'mock endpoint');
  warnings.rest(at.shared, shared, [], 'mock endpoint group');
  return out as unknown as Endpoint;
};

/** `[{name, value}]` (Gravitee's form) or a plain object -> `{name: value}`. */
function namedValues(value: unknown): Record<string, string> | undefined {
  if (isObject(value)) return isEmpty(value) ? undefined : (value as Record<string, string>);
  const entries = asArray(value).filter(isObject).map((e) => [String(e.name ?? e.key), String(e.value ?? '')] as const);
  return entries.length ? Object.fromEntries(entries) : undefined;
}

const kafka: Converter = (config, shared, at, warnings, name) => {
  const servers = String(config.bootstrapServers ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const out: Obj = { type: 'kafka', bootstrapServers: servers };
  warnings.rest(at.endpoint, config, ['bootstrapServers'], 'kafka endpoint');
  const consumer = obj(shared.consumer);
  if (!isEmpty(consumer)) {
    const c: Obj = {};
    if (consumer.enabled === false) c.enabled = false;
    copy(consumer, ['topics', 'topicPattern'], c);
    if (consumer.autoOffsetReset !== undefined) c.autoOffsetReset = token(consumer.autoOffsetReset);
    if (consumer.enabled !== false || c.topics || c.topicPattern) out.consumer = c;
    warnings.rest(`${at.shared}.consumer`, consumer, ['enabled', 'topics', 'topicPattern', 'autoOffsetReset'], 'kafka consumer');
  }
  const producer = obj(shared.producer);
  if (!isEmpty(producer)) {
    const topics = asArray(producer.topics).filter((t): t is string => typeof t === 'string');
    if (producer.enabled !== false && topics.length) out.producer = { topic: topics[0] };
    else if (producer.enabled !== false) warnings.notCarried(`${at.shared}.producer`, 'the kafka producer names no topic; left out (add "producer": {"topic": …} to publish)');
    if (topics.length > 1) warnings.notCarried(`${at.shared}.producer.topics`, `Sluice produces to one topic: "${topics[0]}" kept, ${topics.slice(1).join(', ')} left out`);
    warnings.rest(`${at.shared}.producer`, producer, ['enabled', 'topics'], 'kafka producer');
  }
  const security = obj(shared.security);
  if (!isEmpty(security)) {
    const s: Obj = {};
    if (security.protocol !== undefined) s.protocol = String(security.protocol).toUpperCase();
    const sasl = obj(security.sasl);
    const mechanism = obj(sasl.mechanism);
    if (!isEmpty(mechanism) && token(mechanism.type) !== 'none') {
      const variable = envName(name, 'kafka', 'password');
      s.sasl = { mechanism: String(mechanism.type).toUpperCase(), username: mechanism.username, password: { env: variable } };
      warnings.secret(`${at.shared}.security.sasl.mechanism.password`, `the SASL password is not copied: set it in the environment variable ${variable} where the gateway runs`);
      warnings.rest(`${at.shared}.security.sasl.mechanism`, mechanism, ['type', 'username', 'password'], 'kafka SASL');
    }
    warnings.rest(`${at.shared}.security.sasl`, sasl, ['mechanism'], 'kafka SASL');
    if (!isEmpty(security.ssl)) warnings.notCarried(`${at.shared}.security.ssl`, 'trust and key stores are not converted: set "security": {"ssl": {"ca": …}} on the endpoint by hand');
    if (!isEmpty(s)) out.security = s;
    warnings.rest(`${at.shared}.security`, security, ['protocol', 'sasl', 'ssl'], 'kafka security');
  }
  warnings.rest(at.shared, shared, ['consumer', 'producer', 'security'], 'kafka endpoint group');
  return out as unknown as Endpoint;
};

const mqtt5: Converter = (config, shared, at, warnings, name) => {
  const out: Obj = { type: 'mqtt' };
  copy(config, ['serverHost', 'serverPort'], out);
  warnings.rest(at.endpoint, config, ['serverHost', 'serverPort'], 'mqtt5 endpoint');
  if (shared.sessionExpiryInterval !== undefined) out.sessionExpiryInterval = shared.sessionExpiryInterval;
  const consumer = obj(shared.consumer);
  if (!isEmpty(consumer) && consumer.enabled !== false && typeof consumer.topic === 'string') out.consumer = { topic: consumer.topic };
  warnings.rest(`${at.shared}.consumer`, consumer, ['enabled', 'topic'], 'mqtt5 consumer');
  const producer = obj(shared.producer);
  if (!isEmpty(producer) && producer.enabled !== false && typeof producer.topic === 'string') {
    out.producer = { topic: producer.topic, ...(typeof producer.retained === 'boolean' ? { retained: producer.retained } : {}) };
  }
  warnings.rest(`${at.shared}.producer`, producer, ['enabled', 'topic', 'retained'], 'mqtt5 producer');
  const security = obj(shared.security);
  const auth = obj(security.auth);
  if (typeof auth.username === 'string' && auth.username) {
    const a: Obj = { username: auth.username };
    if (!isEmpty(auth.password)) {
      const variable = envName(name, 'mqtt', 'password');
      a.password = { env: variable };
      warnings.secret(`${at.shared}.security.auth.password`, `the MQTT password is not copied: set it in the environment variable ${variable} where the gateway runs`);
    }
    out.security = { auth: a };
  }
  if (!isEmpty(security.ssl)) warnings.notCarried(`${at.shared}.security.ssl`, 'trust and key stores are not converted: set "security": {"ssl": {"enabled": true, "ca": …}} on the endpoint by hand');
  warnings.rest(`${at.shared}.security`, security, ['auth', 'ssl'], 'mqtt5 security');
  warnings.rest(at.shared, shared, ['sessionExpiryInterval', 'consumer', 'producer', 'security'], 'mqtt5 endpoint group');
  return out as unknown as Endpoint;
};

/** By Gravitee endpoint type. */
const ENDPOINTS: Record<string, Converter> = { mock, kafka, mqtt5 };

export function convertEndpointGroups(groups: unknown, apiName: string, warnings: Warnings): Endpoint[] {
  const out: Endpoint[] = [];
  asArray(groups).forEach((group, g) => {
    const at = `$.api.endpointGroups[${g}]`;
    if (!isObject(group)) return;
    const type = String(group.type);
    const converter = ENDPOINTS[type];
    if (!converter) {
      warnings.notCarried(`${at}.type`, `endpoint type "${type}" is not supported (Sluice has kafka, mqtt5 as mqtt, and mock); group left out`);
      return;
    }
    const endpoints = asArray(group.endpoints).filter(isObject);
    const endpoint = endpoints[0];
    if (!endpoint) {
      warnings.notCarried(`${at}.endpoints`, 'the group has no endpoint; left out');
      return;
    }
    if (endpoints.length > 1) warnings.notCarried(`${at}.endpoints`, `Sluice connects to one endpoint per group: "${String(endpoint.name)}" kept, ${endpoints.slice(1).map((e) => `"${String(e.name)}"`).join(', ')} left out`);
    const inherits = endpoint.inheritConfiguration !== false;
    const shared = inherits ? parsed(group.sharedConfiguration) : parsed(endpoint.sharedConfigurationOverride);
    const sharedAt = inherits ? `${at}.sharedConfiguration` : `${at}.endpoints[0].sharedConfigurationOverride`;
    const converted = converter(parsed(endpoint.configuration), shared, { endpoint: `${at}.endpoints[0].configuration`, shared: sharedAt }, warnings, apiName);
    if (converted) out.push(converted);
    if (!isEmpty(group.loadBalancer) && endpoints.length > 1) warnings.notCarried(`${at}.loadBalancer`, 'load balancing between endpoints has no Sluice equivalent; left out');
    if (!isEmpty(group.services) || !isEmpty(endpoint.services)) warnings.notCarried(`${at}.services`, 'endpoint services (health checks) have no Sluice equivalent; left out');
    if (!isEmpty(endpoint.tenants)) warnings.notCarried(`${at}.endpoints[0].tenants`, 'tenants have no Sluice equivalent; left out');
  });
  return out;
}
