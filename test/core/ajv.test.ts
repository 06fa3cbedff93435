import { describe, expect, it } from 'vitest';
import { createAjv, SCHEMA_BASE, schemaFiles, sluiceSchemas } from '../../core/ajv.ts';

describe('core/ajv.ts: one set-up, three profiles', () => {
  const schema = { type: 'object', properties: { n: { type: 'integer', default: 3 }, s: { type: 'string', format: 'email' } }, required: ['s'], additionalProperties: false };

  it('definitions: every error at once, defaults filled, formats checked', () => {
    const validate = createAjv('definitions').compile(schema);
    const data: Record<string, unknown> = { s: 'nobody', x: 1 };
    expect(validate(data)).toBe(false);
    expect(validate.errors!.map((e) => e.keyword).sort()).toEqual(['additionalProperties', 'format']);
    expect(data.n).toBe(3);
  });

  it('user-schemas: first error only, data never changed, strict keywords, patterns on RE2', () => {
    const ajv = createAjv('user-schemas');
    const validate = ajv.compile(schema);
    const data: Record<string, unknown> = { s: 'nobody', x: 1 };
    expect(validate(data)).toBe(false);
    expect(validate.errors).toHaveLength(1);
    expect(data).not.toHaveProperty('n');
    expect(() => ajv.compile({ type: 'integer', minimun: 1 })).toThrow(/unknown keyword/);
    expect(() => ajv.compile({ type: 'string', pattern: '^(?=a)' })).toThrow(/lookahead/);
    expect(ajv.compile({ type: 'string', pattern: '^(a+)+$' })(`${'a'.repeat(40)}!`)).toBe(false);
  });

  it('bundle and definitions hold every schema of schemas/, each built once', () => {
    expect(schemaFiles()).toContain('bundle.schema.json');
    for (const profile of ['bundle', 'definitions'] as const) {
      const ajv = sluiceSchemas(profile);
      expect(sluiceSchemas(profile)).toBe(ajv);
      for (const file of schemaFiles()) expect(ajv.getSchema(SCHEMA_BASE + file), file).toBeTypeOf('function');
    }
    expect(sluiceSchemas('bundle')).not.toBe(sluiceSchemas('definitions'));
  });
});
