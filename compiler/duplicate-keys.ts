/**
 * Duplicate keys in one JSON object. JSON.parse silently keeps the last value of a repeated key, so
 * `{"state": "stopped", …, "state": "started"}` would compile to something the reader of the file
 * does not expect: the compiler refuses it (JSON_DUPLICATE_KEY at the second key).
 *
 * One pass over text that JSON.parse already accepted (so no syntax checking here), one Set of
 * keys per open object: linear in the text, iterative (no recursion on deep nesting). Keys are
 * compared decoded: "a" and "\u0061" are the same key.
 */

export interface DuplicateKey {
  /** The key, decoded. */
  key: string;
  /** Offset of the repeated key's opening quote. */
  at: number;
  /** Offset of the first occurrence's opening quote. */
  first: number;
}

/** Every repeated key of every object in `source` (valid JSON), in text order. */
export function findDuplicateKeys(source: string): DuplicateKey[] {
  const out: DuplicateKey[] = [];
  /** One frame per open container: the keys seen (objects) or null (arrays). */
  const keys: (Map<string, number> | null)[] = [];
  let expectKey = false;
  for (let i = 0; i < source.length; i++) {
    const c = source.charCodeAt(i);
    if (c === 0x7b /* { */) {
      keys.push(new Map());
      expectKey = true;
    } else if (c === 0x5b /* [ */) {
      keys.push(null);
      expectKey = false;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      keys.pop();
      expectKey = false;
    } else if (c === 0x2c /* , */) {
      expectKey = keys.length > 0 && keys[keys.length - 1] !== null;
    } else if (c === 0x22 /* " */) {
      const start = i;
      let escaped = false;
      for (i++; i < source.length; i++) {
        const d = source.charCodeAt(i);
        if (d === 0x5c /* \ */) {
          escaped = true;
          i++;
        } else if (d === 0x22) break;
      }
      const seen = keys[keys.length - 1];
      if (expectKey && seen) {
        const key = escaped ? (JSON.parse(source.slice(start, i + 1)) as string) : source.slice(start + 1, i);
        const first = seen.get(key);
        if (first === undefined) seen.set(key, start);
        else out.push({ key, at: start, first });
        expectKey = false;
      }
    }
  }
  return out;
}
