import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../core/canonical-json.ts';

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
