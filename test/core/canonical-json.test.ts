import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { apiFingerprint, bundleId, canonicalJson, contentAddresses } from '../../core/canonical-json.ts';

// Vectors from RFC 8785 (JSON Canonicalization Scheme): another tool using any JCS library must
// compute the same bundle ids as Sluice.
describe('canonicalJson is RFC 8785 (JCS)', () => {
  it('serialises numbers as ECMAScript does (RFC 8785 appendix B)', () => {
    const cases: [number, string][] = [
      [0, '0'], [-0, '0'], [5e-324, '5e-324'], [1.7976931348623157e308, '1.7976931348623157e+308'],
      [9007199254740992, '9007199254740992'], [-9007199254740992, '-9007199254740992'],
      [295147905179352830000, '295147905179352830000'], [1e21, '1e+21'], [9.999999999999997e22, '9.999999999999997e+22'],
      [1e23, '1e+23'], [0.000001, '0.000001'], [1e-7, '1e-7'], [333333333.3333333, '333333333.3333333'], [-1e-7, '-1e-7'],
    ];
    for (const [value, text] of cases) expect(canonicalJson(value)).toBe(text);
    expect(() => canonicalJson(Number.NaN)).toThrow(TypeError);
    expect(() => canonicalJson(Number.POSITIVE_INFINITY)).toThrow(TypeError);
  });

  it('escapes strings as RFC 8785 section 3.2.2.2 says', () => {
    const value = JSON.parse('"\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/"');
    expect(canonicalJson(value)).toBe('"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"');
    expect(canonicalJson('\b\t\n\f\r\u0001\u001f\u007f')).toBe('"\\b\\t\\n\\f\\r\\u0001\\u001f\u007f"');
  });

  it('sorts keys by UTF-16 code units (RFC 8785 section 3.2.3) and writes no whitespace', () => {
    const value = JSON.parse('{"\\u20ac":"Euro Sign","\\r":"Carriage Return","\\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One","\\ud83d\\ude00":"Emoji: Grinning Face","\\u0080":"Control","\\u00f6":"Latin Small Letter O With Diaeresis"}');
    // (read back with a regex: JSON.parse would put the integer-like key "1" first again)
    expect([...canonicalJson(value).matchAll(/:"([^"]+)"/g)].map((m) => m[1])).toEqual([
      'Carriage Return', 'One', 'Control', 'Latin Small Letter O With Diaeresis', 'Euro Sign', 'Emoji: Grinning Face', 'Hebrew Letter Dalet With Dagesh',
    ]);
    expect(canonicalJson({ b: [1, { d: true, c: null }], a: 'x' })).toBe('{"a":"x","b":[1,{"c":null,"d":true}]}');
  });

});

describe('contentAddresses: the id and the per-API fingerprints in one pass', () => {
  const sha = (text: string) => createHash('sha256').update(text).digest('hex');
  const apis = {
    z: { id: 'z', definition: { name: 'Z', n: [1, { b: 2, a: 1 }] }, plans: { open: { type: 'keyless' } }, subscriptions: {} },
    a: { id: 'a', definition: { name: 'A' }, plans: {}, subscriptions: { acme: { plan: 'gold' }, beta: { plan: 'gold', skip: undefined } } },
  };

  it('hashes exactly the canonical JSON that bundleId always hashed', () => {
    const { id, fingerprints } = contentAddresses({ formatVersion: 1, apis: apis as never });
    expect(id).toBe(sha(canonicalJson({ formatVersion: 1, apis })));
    expect(bundleId({ formatVersion: 1, apis: apis as never })).toBe(id);
    expect(fingerprints.z).toEqual({ api: sha(canonicalJson(apis.z)), definition: sha(canonicalJson(apis.z.definition)), plans: { open: sha('{"type":"keyless"}') }, subscriptions: {} });
    expect(fingerprints.a!.subscriptions).toEqual({ acme: sha('{"plan":"gold"}'), beta: sha('{"plan":"gold"}') });
    expect(fingerprints.a).toEqual(apiFingerprint(apis.a as never));
  });

  it('still hashes the canonical JSON of input no schema has checked yet', () => {
    for (const odd of [null, [1, 2], 'x', { q: 5 }, { q: { id: 'q', plans: [1], subscriptions: 'no' } }]) {
      expect(contentAddresses({ formatVersion: 1, apis: odd as never }).id).toBe(sha(canonicalJson({ formatVersion: 1, apis: odd })));
    }
    const { fingerprints } = contentAddresses({ formatVersion: 1, apis: JSON.parse('{"__proto__":{"id":"p","definition":{},"plans":{"__proto__":{}},"subscriptions":{}}}') });
    expect(Object.keys(fingerprints)).toEqual(['__proto__']);
    expect(Object.keys(fingerprints.__proto__!.plans)).toEqual(['__proto__']);
  });
});
