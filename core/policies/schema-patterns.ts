/**
 * The regular expressions of a JSON Schema (draft 2020-12, plus draft-07's `definitions`,
 * `dependencies` and `additionalItems`): every `pattern` and every `patternProperties` key, with its
 * JSON pointer relative to the schema, found by walking schema positions only (so a property *named*
 * "pattern", or a `const` holding one, is not mistaken for a pattern). Iterative, linear in the schema.
 */

const SCHEMA_VALUED = ['additionalProperties', 'items', 'additionalItems', 'contains', 'not', 'if', 'then', 'else', 'propertyNames', 'unevaluatedItems', 'unevaluatedProperties'];
const SCHEMA_ARRAYS = ['allOf', 'anyOf', 'oneOf', 'prefixItems', 'items'];
const SCHEMA_MAPS = ['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas', 'dependencies'];

const escape = (token: string) => token.replace(/~/g, '~0').replace(/\//g, '~1');
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

export interface SchemaPattern {
  /** JSON pointer relative to the schema, e.g. "/properties/name/pattern". */
  readonly pointer: string;
  readonly pattern: string;
  /** A patternProperties pattern is the key at `pointer`, not its value. */
  readonly part?: 'key';
}

export function schemaPatterns(schema: unknown): SchemaPattern[] {
  const out: SchemaPattern[] = [];
  const stack: { node: unknown; pointer: string }[] = [{ node: schema, pointer: '' }];
  while (stack.length) {
    const { node, pointer } = stack.pop()!;
    if (!isObject(node)) continue;
    if (typeof node.pattern === 'string') out.push({ pointer: `${pointer}/pattern`, pattern: node.pattern });
    if (isObject(node.patternProperties)) {
      for (const key of Object.keys(node.patternProperties)) out.push({ pointer: `${pointer}/patternProperties/${escape(key)}`, pattern: key, part: 'key' });
    }
    for (const key of SCHEMA_VALUED) if (isObject(node[key])) stack.push({ node: node[key], pointer: `${pointer}/${key}` });
    for (const key of SCHEMA_ARRAYS) {
      const list = node[key];
      if (Array.isArray(list)) list.forEach((item, i) => stack.push({ node: item, pointer: `${pointer}/${key}/${i}` }));
    }
    for (const key of SCHEMA_MAPS) {
      const map = node[key];
      if (isObject(map)) for (const [name, item] of Object.entries(map)) stack.push({ node: item, pointer: `${pointer}/${key}/${escape(name)}` });
    }
  }
  return out;
}
