/**
 * Inline secrets: secrets live outside git, referenced as {"env": "NAME"} or {"file": "PATH"}.
 * Reported anywhere in any file (valid or not):
 * - a property named like a secret (password, secret, token, privateKey, apiKey, clientSecret,
 *   authorization, ...) whose value is a string;
 * - a `{ "name": <secret-like header>, "value": "<string>" }` pair (static webhook headers);
 * - any string holding a PEM private key.
 */
import { diagnosticAt, pointerToken, type Diagnostic } from '../diagnostic.ts';
import type { ParsedFile } from '../source.ts';

/** Property names (lowercased, without "-", "_" and ".") that hold secrets, matched at the end of the name. */
const SECRET_NAME = /(password|passwd|passphrase|secret|token|privatekey|apikey|authorization|credentials?|cookie)$/;
const PEM_PRIVATE_KEY = /-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY-----/;

/** True when a property (or header) of this name must never carry a literal string. */
export function isSecretName(name: string): boolean {
  let known = secretNames.get(name);
  if (known === undefined) {
    known = SECRET_NAME.test(name.toLowerCase().replace(/[-_.\s]/g, ''));
    if (secretNames.size < 4096) secretNames.set(name, known);
  }
  return known;
}
const secretNames = new Map<string, boolean>();

export function scanSecrets(file: ParsedFile): Diagnostic[] {
  const out: Diagnostic[] = [];
  const path: (string | number)[] = []; // pointer tokens, joined only when something is found
  const pointer = (...more: string[]) => [...path, ...more].map((token) => `/${pointerToken(token)}`).join('');
  const visit = (value: unknown, name: string | undefined): void => {
    if (typeof value === 'string') {
      if (PEM_PRIVATE_KEY.test(value)) {
        out.push(diagnosticAt(file, pointer(), 'INLINE_SECRET', `${label(name)} holds a PEM private key: never commit private keys; reference them as {"file": "PATH"} or {"env": "NAME"}`));
      } else if (name !== undefined && isSecretName(name)) {
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
    if (typeof object.name === 'string' && typeof object.value === 'string' && isSecretName(object.name) && !PEM_PRIVATE_KEY.test(object.value)) {
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
