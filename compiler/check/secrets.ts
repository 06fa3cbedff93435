/**
 * Inline secrets: secrets live outside git, referenced as {"env": "NAME"} or {"file": "PATH"}.
 * Reported anywhere in any file (valid or not):
 * - a property named like a secret (password, secret, token, privateKey, apiKey, clientSecret,
 *   secretKey, accessKey, authorization, ...) whose value is a string;
 * - a `{ "name": <secret-like header>, "value": "<string>" }` pair (static webhook headers);
 * - any string holding a PEM private key, a URL with a password (`https://user:pass@host`) or a
 *   secret-like query parameter (`?token=…`, `?api_key=…`), or a credential in a well-known format
 *   (AWS access key id, GitHub, Slack, Stripe live and Google API keys).
 * Not secrets: `$schema`, descriptions and other prose (unless they hold one of the strings above),
 * references, and settings merely named after credentials (`allowCredentials`).
 */
import { diagnosticAt, pointerToken, type Diagnostic } from '../diagnostic.ts';
import type { ParsedFile } from '../source.ts';

/** Property names (lowercased, without "-", "_", "." and spaces) that hold secrets, matched at the end of the name. */
const SECRET_NAME =
  /(password|passwd|pwd|passphrase|secret|token|(private|secret|access|signing|client|master|encryption|hmac|shared|session|api)key|authorization|credentials?|cookie)$/;
/** Names that match SECRET_NAME but hold settings, not secrets (normalised like SECRET_NAME). */
const NOT_SECRET = new Set(['allowcredentials', 'withcredentials', 'usecredentials']);
const PEM_PRIVATE_KEY = /-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY-----/;
/**
 * `scheme://user:password@` (a user name alone is no secret). Each part is bounded so that a
 * hostile string (`a://x:ya://x:y…` without "@") costs linear time, not a rescan from every start.
 */
const URL_PASSWORD = /\b[a-z][a-z0-9+.-]{0,31}:\/\/[^\s/?#@:]{0,256}:[^\s/?#@]{1,1024}@/i;
/** `?name=value` / `&name=value` in a URL; the name is checked with isSecretName. Names stop at "?" too (linear on `?a?a?a…`). */
const URL_QUERY_PARAM = /[?&]([^=&#?\s]{1,256})=([^&#\s]+)/g;
/** Credentials whose format alone gives them away. */
const KNOWN_FORMATS: readonly [RegExp, string][] = [
  [/\b(AKIA|ASIA)[0-9A-Z]{16}\b/, 'an AWS access key id'],
  [/\b(ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,}\b|\bgithub_pat_[A-Za-z0-9_]{40,}\b/, 'a GitHub token'],
  [/\bxox[abposr]-[A-Za-z0-9-]{10,}/, 'a Slack token'],
  [/\b(sk|rk)_live_[A-Za-z0-9]{16,}\b/, 'a Stripe live key'],
  [/\bAIza[0-9A-Za-z_-]{35}\b/, 'a Google API key'],
];

/** Cheap test before KNOWN_FORMATS: a prefix one of them needs. */
const KNOWN_PREFIX = /AKIA|ASIA|gh[pousr]_|github_pat_|xox|_live_|AIza/;

/** True when a property (or header, or URL query parameter) of this name must never carry a literal string. */
export function isSecretName(name: string): boolean {
  let known = secretNames.get(name);
  if (known === undefined) {
    const normalised = name.toLowerCase().replace(/[-_.\s]/g, '');
    known = SECRET_NAME.test(normalised) && !NOT_SECRET.has(normalised);
    if (secretNames.size < 4096 && name.length <= 64) secretNames.set(name, known); // bounded in count and bytes: keys come from definitions
  }
  return known;
}
const secretNames = new Map<string, boolean>();

/** What gives a string away as a secret whatever its property is called, or undefined. */
function secretInText(value: string): string | undefined {
  if (PEM_PRIVATE_KEY.test(value)) return 'a PEM private key: never commit private keys; reference them as {"file": "PATH"} or {"env": "NAME"}';
  if (value.includes('://')) {
    if (URL_PASSWORD.test(value)) return 'a URL with a password (user:password@): keep credentials out of URLs and use a reference {"env": "NAME"} in the auth settings';
    for (const [, name] of value.matchAll(URL_QUERY_PARAM)) {
      if (isSecretName(decodeName(name))) return `a URL whose query parameter "${name}" carries a secret: keep credentials out of URLs and use a reference {"env": "NAME"}`;
    }
  }
  if (!KNOWN_PREFIX.test(value)) return undefined;
  for (const [pattern, what] of KNOWN_FORMATS) {
    if (pattern.test(value)) return `${what}: revoke it, and reference secrets as {"env": "NAME"} or {"file": "PATH"}`;
  }
  return undefined;
}

function decodeName(name: string): string {
  try {
    return decodeURIComponent(name);
  } catch {
    return name;
  }
}

export function scanSecrets(file: ParsedFile): Diagnostic[] {
  const out: Diagnostic[] = [];
  const path: (string | number)[] = []; // pointer tokens, joined only when something is found
  const pointer = (...more: string[]) => [...path, ...more].map((token) => `/${pointerToken(token)}`).join('');
  const visit = (value: unknown, name: string | undefined): void => {
    if (typeof value === 'string') {
      const found = secretInText(value);
      if (found) {
        out.push(diagnosticAt(file, pointer(), 'INLINE_SECRET', `${label(name)} holds ${found}`));
      } else if (name !== undefined && name !== '$schema' && isSecretName(name)) {
        out.push(diagnosticAt(file, pointer(), 'INLINE_SECRET', `"${name}" holds a secret in plain text: use a reference {"env": "NAME"} or {"file": "PATH"} instead`));
      }
      return;
    }
    if (!value || typeof value !== 'object') return;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        path.push(i);
        visit(value[i], undefined);
        path.pop();
      }
      return;
    }
    const object = value as Record<string, unknown>;
    if (typeof object.name === 'string' && typeof object.value === 'string' && isSecretName(object.name) && !secretInText(object.value)) {
      out.push(diagnosticAt(file, pointer('value'), 'INLINE_SECRET', `header "${object.name}" holds a secret in plain text: credentials belong in a reference (e.g. webhook "auth": {"type": "bearer", "token": {"env": "NAME"}})`));
    }
    for (const key in object) {
      path.push(key);
      visit(object[key], key);
      path.pop();
    }
  };
  visit(file.value, undefined);
  return out;
}

function label(name: string | undefined): string {
  return name === undefined ? 'a value' : `"${name}"`;
}
