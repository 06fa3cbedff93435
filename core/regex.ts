/**
 * The one regular-expression engine for patterns a definition supplies: `pattern` and
 * `patternProperties` in a json-validate schema (through ajv's `code.regExp`), `matches()` in
 * conditions, a Kafka `topicPattern`. Patterns run on RE2 (re2js): matching is linear in the input,
 * so no pattern, however nested its quantifiers (`(a+)+`, `(a|aa)*`), can block the event loop.
 *
 * Accepted: patterns that are valid ECMA-262 (JSON Schema's dialect) and that RE2 can run. Refused,
 * with a message saying what to do instead: lookahead `(?=` `(?!`, lookbehind `(?<=` `(?<!`,
 * backreferences `\1` `\k<name>`, patterns too large (REGEX_LIMITS), and what RE2 otherwise rejects (e.g.
 * a repeat count over 1000).
 * Differences from ECMA-262 that remain (documented in docs/reference/expression-language.md): matching is always by code point
 * (as with the `u` flag), `.` excludes only `\n` (ECMA also `\r`, U+2028, U+2029), `\S` inside a
 * character class is RE2's ASCII `\S`; `\s` outside classes and inside them is rewritten to ECMA's set.
 */
import { RE2JS } from 're2js';

/** A compiled definition pattern; `test` searches anywhere in the string, like RegExp#test. */
export interface DefinitionRegex {
  readonly source: string;
  readonly flags: string;
  test(subject: string): boolean;
  toString(): string;
}

/** A pattern Sluice refuses (unsupported syntax); its message says what to do instead. */
export class UnsafeRegexError extends Error {
  readonly code = 'UNSAFE_REGEX';
}

/** ECMA-262 `\s` (WhiteSpace and LineTerminator), as RE2 class contents. */
const ECMA_SPACE = '\\t\\n\\x{0b}\\f\\r \\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}\\x{202f}\\x{205f}\\x{3000}\\x{feff}';

const LOOKAROUND: Readonly<Record<string, string>> = {
  '(?=': 'lookahead "(?=" is not supported (RE2 syntax): match the text itself, or use two conditions',
  '(?!': 'negative lookahead "(?!" is not supported (RE2 syntax): match what you want and exclude the rest separately (!matches(...) in a condition, "not": {"pattern": ...} in a schema)',
  '(?<=': 'lookbehind "(?<=" is not supported (RE2 syntax): match the preceding text as part of the pattern',
  '(?<!': 'negative lookbehind "(?<!" is not supported (RE2 syntax): match what you want and exclude the rest separately (!matches(...) in a condition, "not": {"pattern": ...} in a schema)',
};
const BACKREFERENCE = 'backreferences ("\\1", "\\k<name>") are not supported (RE2 syntax, linear time): repeat the group itself, or compare values in a condition';

/**
 * Bounds on a pattern. RE2 runs in time linear in the subject, times the size of the compiled
 * pattern: an unanchored `[a-z]{1000}` repeated ten times costs ~10 000 steps per character, so
 * the expanded size (each atom times the repeat counts around it) is bounded too.
 */
export const REGEX_LIMITS = Object.freeze({
  /** Characters in a pattern. */
  sourceLength: 4096,
  /** Atoms after expanding counted repeats: `a{1000}` is 1000, `(ab){10}` is 20. */
  expandedSize: 1000,
});

const TOO_BIG = `the pattern expands to more than ${REGEX_LIMITS.expandedSize} items through counted repeats ({n}, {n,m}); use * or + (with maxLength in a schema) instead of large counts`;

/**
 * Scans the source once: refuses lookaround and backreferences with a clear message, bounds the
 * expanded size, and rewrites `\s` / `\S` to ECMA-262's whitespace set. Returns the RE2-ready source
 * (before re2js's own translation).
 */
function rewrite(source: string): string {
  if (source.length > REGEX_LIMITS.sourceLength) throw new UnsafeRegexError(`the pattern is longer than ${REGEX_LIMITS.sourceLength} characters`);
  let out = '';
  let inClass = false;
  const sizes = [0]; // expanded size of each open group
  let last = 0; // expanded size of the previous atom
  const atom = (size: number) => {
    last = size;
    sizes[sizes.length - 1] += size;
    if (sizes[sizes.length - 1] > REGEX_LIMITS.expandedSize) throw new UnsafeRegexError(TOO_BIG);
  };
  for (let i = 0; i < source.length; i++) {
    const ch = source[i];
    if (ch === '\\') {
      const next = source[i + 1];
      if (!inClass && next !== undefined && ((next >= '1' && next <= '9') || (next === 'k' && source[i + 2] === '<'))) throw new UnsafeRegexError(BACKREFERENCE);
      if (next === 's') out += inClass ? ECMA_SPACE : `[${ECMA_SPACE}]`;
      else if (next === 'S' && !inClass) out += `[^${ECMA_SPACE}]`;
      else out += source.slice(i, i + 2);
      if (!inClass) atom(1);
      i++;
      continue;
    }
    out += ch;
    if (inClass) {
      if (ch === ']') inClass = false;
      continue;
    }
    if (ch === '[') {
      inClass = true;
      atom(1);
    } else if (ch === '(') {
      if (source[i + 1] === '?') {
        for (const [opening, message] of Object.entries(LOOKAROUND)) if (source.startsWith(opening, i)) throw new UnsafeRegexError(message);
      }
      sizes.push(0);
    } else if (ch === ')') {
      atom(sizes.length > 1 ? sizes.pop()! : 0);
    } else if (ch === '|') {
      last = 0;
    } else if (ch === '{') {
      const counted = /^\{(\d+)(?:,(\d*))?\}/.exec(source.slice(i, i + 24));
      if (counted) {
        const times = Math.max(Number(counted[1]), Number(counted[2] || 0));
        const repeated = last;
        atom(repeated * (times - 1));
        last = repeated * times;
        out += counted[0].slice(1);
        i += counted[0].length - 1;
      } else atom(1);
    } else if (!'*+?^$'.includes(ch)) atom(1); // quantifiers and anchors add no item
  }
  return out;
}

function re2Flags(flags: string): number {
  let out = 0;
  if (flags.includes('i')) out |= RE2JS.CASE_INSENSITIVE;
  if (flags.includes('m')) out |= RE2JS.MULTILINE;
  if (flags.includes('s')) out |= RE2JS.DOTALL;
  return out;
}

/**
 * Compiles a definition pattern once (at bundle build or compile time). `flags` are ECMA flags
 * among `i m s u` (the caller decides which it allows). Throws UnsafeRegexError for syntax RE2 cannot
 * run, SyntaxError for a pattern that is not valid ECMA-262 either.
 */
export function compileRegex(source: string, flags = ''): DefinitionRegex {
  new RegExp(source, flags); // ECMA-262 validity (parse only; never executed)
  const rewritten = rewrite(source);
  let engine: RE2JS;
  try {
    engine = RE2JS.compile(RE2JS.translateRegExp(rewritten), re2Flags(flags));
  } catch (error) {
    throw new UnsafeRegexError(`RE2 cannot run this pattern (${(error as Error).message.replace(/^error parsing regexp: /, '')}); use RE2 syntax: no lookaround, no backreferences, repeat counts up to 1000`);
  }
  const text = `/${source}/${flags}`;
  return Object.freeze({ source, flags, test: (subject: string) => engine.test(subject), toString: () => text });
}

/**
 * A RegExp for a library that accepts nothing else (kafkajs `subscribe({ topics: [RegExp] })`, which
 * calls `test` on each topic name): `test` and `exec` run on RE2; the native engine never executes it.
 */
export function re2RegExp(source: string, flags = ''): RegExp {
  const compiled = compileRegex(source, flags);
  return new (class extends RegExp {
    override test(subject: string): boolean {
      return compiled.test(String(subject));
    }
    override exec(): RegExpExecArray | null {
      throw new Error('only test() runs on this RE2-backed pattern');
    }
  })(source, flags);
}

/** Why `source` is refused, or null when it compiles (same rules as compileRegex). */
export function regexProblem(source: string, flags = ''): { code: 'UNSAFE_REGEX' | 'INVALID_REGEX'; message: string } | null {
  try {
    compileRegex(source, flags);
    return null;
  } catch (error) {
    return { code: error instanceof UnsafeRegexError ? 'UNSAFE_REGEX' : 'INVALID_REGEX', message: (error as Error).message };
  }
}

/**
 * ajv's `code.regExp`: every `pattern` and `patternProperties` key of a user schema runs on RE2.
 * `code` is what ajv would write into standalone validator source; Sluice never generates standalone
 * code (validators are compiled in process when a bundle is built), so it only names this function.
 */
export const ajvRegExp = Object.assign((pattern: string, u: string): DefinitionRegex => compileRegex(pattern, u), {
  code: 'require("sluice/core/regex").ajvRegExp',
});
