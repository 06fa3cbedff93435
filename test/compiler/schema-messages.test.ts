/** Schema diagnostics read like advice: one diagnostic per typo, with the name that was meant. */
import { describe, expect, it } from 'vitest';
import { compileTree } from '../../compiler/index.ts';

const source = { kind: 'folder', compilerVersion: 'test' } as const;
const API = { name: 'W', state: 'stopped', contextPaths: ['/w'], entrypoints: [{ type: 'http-get' }], endpoints: [{ type: 'mock' }] };

function messages(api: object): string[] {
  return compileTree([{ path: 'w/api.json', text: JSON.stringify(api, null, 2) }], { source }).diagnostics.map((d) => `${d.line}:${d.column} ${d.code} ${d.message}`);
}

describe('schema messages', () => {
  it('a misspelt required property is one diagnostic at the typo, not also "missing required property"', () => {
    const { contextPaths, ...rest } = API;
    expect(messages({ ...rest, contextPath: contextPaths })).toEqual(['14:3 SCHEMA_UNKNOWN_PROPERTY unknown property "contextPath"; did you mean "contextPaths"?']);
  });

  it('two swapped letters count as one edit ("nmae" is "name")', () => {
    const { name, ...rest } = API;
    expect(messages({ nmae: name, ...rest })).toEqual(['2:3 SCHEMA_UNKNOWN_PROPERTY unknown property "nmae"; did you mean "name"?']);
  });

  it('a missing property next to an unrelated unknown one is still reported as missing', () => {
    const { name: _name, ...rest } = API;
    expect(messages({ ...rest, colour: 'blue' }).map((m) => m.split(' ')[1])).toEqual(['SCHEMA_REQUIRED', 'SCHEMA_UNKNOWN_PROPERTY']);
  });
});
