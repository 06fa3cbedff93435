/**
 * Channels: context path templates (`/sensors/{deviceId}`) and the endpoint strings that use their
 * parameters (`sensors/readings/{deviceId}`). A parameter is one whole path segment; its value is
 * checked against the API's optional per-parameter `pattern` (core/regex.ts, linear time).
 *
 * Shared by the compiler (checks) and the runtime (routing, endpoint mapping), so it imports only
 * schemas/ and core/.
 */
import { compileRegex, type DefinitionRegex } from './regex.ts';

/** `{name}`: a parameter segment. Names are identifiers (they are read as `request.params.name`). */
const PARAMETER = /^\{([A-Za-z_][A-Za-z0-9_]*)\}$/;
/** Any `{name}` inside a string (endpoint topics, keys). */
const REFERENCE = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** A parsed context path template: its static prefix (normalised, ends with "/") and its segments. */
export interface PathTemplate {
  readonly source: string;
  /** The literal part before the first parameter, e.g. "/sensors/". */
  readonly prefix: string;
  /** Segments after the prefix: a literal, or a parameter name. */
  readonly segments: readonly ({ readonly literal: string } | { readonly parameter: string })[];
  readonly parameters: readonly string[];
}

/** Null when the path has no parameter; throws an Error naming the bad segment otherwise. */
export function parseTemplate(path: string): PathTemplate | null {
  if (!path.includes('{') && !path.includes('}')) return null;
  const parts = path.split('/').filter((part) => part !== '');
  const first = parts.findIndex((part) => part.includes('{') || part.includes('}'));
  const segments: PathTemplate['segments'][number][] = [];
  const parameters: string[] = [];
  for (const part of parts.slice(first)) {
    const match = PARAMETER.exec(part);
    if (match) {
      if (parameters.includes(match[1]!)) throw new Error(`parameter {${match[1]}} appears twice in ${path}`);
      parameters.push(match[1]!);
      segments.push({ parameter: match[1]! });
    } else if (part.includes('{') || part.includes('}')) {
      throw new Error(`segment "${part}" of ${path} is not a whole parameter: write a segment as {name} (letters, digits, _), alone between slashes`);
    } else {
      segments.push({ literal: part });
    }
  }
  const prefix = `/${parts.slice(0, first).join('/')}/`.replace(/\/{2,}/g, '/');
  return { source: path, prefix, segments, parameters };
}

/**
 * The parameters of a request path (already normalised, ending with "/"), or null when it is not
 * under the template. A missing segment is the empty string (refused later as INVALID_CHANNEL);
 * segments past the template are ignored, as sub-paths are for plain context paths.
 */
export function matchTemplate(template: PathTemplate, path: string): Record<string, string> | null {
  if (!path.startsWith(template.prefix)) return null;
  const rest = path.slice(template.prefix.length).split('/');
  const params: Record<string, string> = Object.create(null);
  for (let i = 0; i < template.segments.length; i++) {
    const segment = template.segments[i]!;
    const value = rest[i] ?? '';
    if ('literal' in segment) {
      if (value !== segment.literal) return null;
      continue;
    }
    let decoded: string;
    try {
      decoded = decodeURIComponent(value);
    } catch {
      decoded = value;
    }
    params[segment.parameter] = decoded;
  }
  return params;
}

/** The `{name}` references of an endpoint string, in order. */
export function referencedParameters(text: string): string[] {
  return [...text.matchAll(REFERENCE)].map((match) => match[1]!);
}

/**
 * Does `text` (a topic name) fit the template `template` with some value per `{name}`? The literal
 * parts must appear in order, each parameter standing for at least one character.
 */
export function fitsTemplate(template: string, text: string): boolean {
  const literals = template.split(REFERENCE).filter((_, index) => index % 2 === 0);
  if (literals.length === 1) return template === text;
  const first = literals[0]!;
  const last = literals[literals.length - 1]!;
  if (!text.startsWith(first) || !text.endsWith(last) || text.length < first.length + last.length + literals.length - 1) return false;
  let at = first.length;
  for (const literal of literals.slice(1, -1)) {
    const found = text.indexOf(literal, at + 1);
    if (found < 0) return false;
    at = found + literal.length;
  }
  return text.length - last.length > at;
}

/** `text` split at its `{name}` references: literal, name, literal, …, literal (odd indexes are names). */
export function splitReferences(text: string): string[] {
  return text.split(REFERENCE);
}

/**
 * `text` with every `{name}` replaced by `wildcard`: the one upstream subscription that covers
 * every channel of an API (`orders.{region}.#` bound as `orders.*.#`, `telemetry/{id}` as `telemetry/+`).
 */
export function wildcardReferences(text: string, wildcard: string): string {
  return expandReferences(text, () => wildcard);
}

/** `text` with each `{name}` replaced by `replace(name)`. */
export function expandReferences(text: string, replace: (name: string) => string): string {
  return text.replace(REFERENCE, (_, name: string) => replace(name));
}

/** The declared parameters of an API: description and optional pattern (compiled once). */
export interface ParameterRule {
  readonly pattern?: DefinitionRegex;
  /** `parameters.<name>.values`: the values accepted, exactly. */
  readonly values?: ReadonlySet<string>;
}

export function compileParameterRules(parameters: Readonly<Record<string, { pattern?: string; values?: readonly string[] }>> | undefined): ReadonlyMap<string, ParameterRule> {
  const rules = new Map<string, ParameterRule>();
  for (const [name, declared] of Object.entries(parameters ?? {})) {
    rules.set(name, {
      // A pattern must match the whole value: anchored here, so "[a-z]+" does not accept "a/b".
      ...(declared.pattern !== undefined ? { pattern: compileRegex(`^(?:${declared.pattern})$`) } : {}),
      ...(declared.values !== undefined ? { values: new Set(declared.values) } : {}),
    });
  }
  return rules;
}

/** Why a parameter value is refused (null: accepted). `forbidden` lists characters the endpoint cannot carry. */
export function parameterProblem(name: string, value: string, rule: ParameterRule | undefined, forbidden: readonly string[]): string | null {
  if (value === '') return `the channel parameter ${name} is empty: give a value in the path`;
  const bad = forbidden.find((character) => value.includes(character));
  if (bad !== undefined) return `the channel parameter ${name} may not contain "${bad}"`;
  if (rule?.values && !rule.values.has(value)) return `the channel parameter ${name} is not one of its declared values`;
  if (rule?.pattern && !rule.pattern.test(value)) return `the channel parameter ${name} does not match its pattern ${rule.pattern.source}`;
  return null;
}
