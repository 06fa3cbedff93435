/**
 * The one ajv set-up: every JSON Schema validation in Sluice goes through createAjv (draft 2020-12,
 * strict, formats from ajv-formats), with a named profile for each genuinely different need:
 *
 * - `definitions` (compiler: API folders): every error at once (allErrors), `type`-discriminated
 *   unions, defaults filled into the document, verbose errors (the compiler's messages read the
 *   failing schema and data).
 * - `bundle` (runtime: verifying a bundle before it is served): as `definitions` without verbose
 *   errors; defaults are filled too, so a bundle of an earlier compiler gets this runtime's defaults.
 * - `user-schemas` (the json-validate policy: schemas written in a definition): first error only,
 *   never mutates data, strict about keywords (a typo like "minimun" is an error) but not about
 *   types and tuples; `pattern` / `patternProperties` run on RE2 (core/regex.ts), linear in the input.
 *   `$data` stays off: a pattern never comes from a message.
 *
 * Sluice's own schemas (schemas/, fixed, their patterns simple and anchored) keep the JavaScript
 * regular-expression engine; patterns a definition supplies always run on RE2.
 */
import { Ajv2020, type Options } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from './package-root.ts';
import { ajvRegExp } from './regex.ts';

export type AjvProfile = 'definitions' | 'bundle' | 'user-schemas';

/** The `$id` prefix of every schema in schemas/ (`<base><relative path>`). */
export const SCHEMA_BASE = 'https://sluice.dev/schemas/';

const STRICT: Options = { strict: true, strictRequired: false, allowUnionTypes: true };

const PROFILES: Readonly<Record<AjvProfile, Options>> = {
  definitions: { ...STRICT, allErrors: true, discriminator: true, useDefaults: true, verbose: true },
  bundle: { ...STRICT, allErrors: true, discriminator: true, useDefaults: true },
  'user-schemas': { ...STRICT, strictTypes: false, strictTuples: false, allErrors: false, code: { regExp: ajvRegExp } },
};

const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv2020) => void;

/** A new ajv of `profile`, formats added, no schema loaded. */
export function createAjv(profile: AjvProfile): Ajv2020 {
  const ajv = new Ajv2020(PROFILES[profile]);
  addFormats(ajv);
  return ajv;
}

const schemasDir = join(packageRoot(), 'schemas');

/** Every schema file under schemas/, as sorted paths relative to it with `/` separators. */
export function schemaFiles(): string[] {
  return (readdirSync(schemasDir, { recursive: true }) as string[])
    .filter((relative) => relative.endsWith('.schema.json'))
    .map((relative) => relative.split('\\').join('/'))
    .sort();
}

const withSchemas = new Map<AjvProfile, Ajv2020>();

/**
 * The ajv of `profile` holding every schema of schemas/ (`getSchema(SCHEMA_BASE + relative path)`),
 * built once per profile and process.
 */
export function sluiceSchemas(profile: Exclude<AjvProfile, 'user-schemas'>): Ajv2020 {
  let ajv = withSchemas.get(profile);
  if (ajv) return ajv;
  ajv = createAjv(profile);
  for (const relative of schemaFiles()) {
    const schema = JSON.parse(readFileSync(join(schemasDir, relative), 'utf8')) as { $id?: string };
    if (!schema.$id || !ajv.getSchema(schema.$id)) ajv.addSchema(schema);
  }
  withSchemas.set(profile, ajv);
  return ajv;
}
