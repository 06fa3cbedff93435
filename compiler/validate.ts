/**
 * Validate stage: the `definitions` ajv of core/ajv.ts (draft 2020-12, strict, allErrors,
 * discriminator on `type`, useDefaults, verbose), every schema compiled once when this module
 * loads. Validation fills defaults into the document; every ajv error becomes a Diagnostic with a
 * stable code and a message a person can act on.
 */
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import { SCHEMA_BASE, schemaFiles, sluiceSchemas } from '../core/ajv.ts';
import { describePointer, diagnosticAt, pointerToken, type Diagnostic } from './diagnostic.ts';
import type { ParsedFile } from './source.ts';

export { SCHEMA_BASE } from '../core/ajv.ts';

/** What a file is, by its place in the tree. */
export type DocumentKind = 'api' | 'plan' | 'subscription' | 'environment';

const ajv = sluiceSchemas('definitions');

/** Discriminated unions by title: the noun used in messages and the allowed tag values. */
const unions = new Map<string, { noun: string; values: string[] }>();
const NOUNS: Record<string, string> = { Entrypoint: 'entrypoint type', Endpoint: 'endpoint type', Plan: 'plan type', PolicyStep: 'policy' };

for (const relative of schemaFiles()) collectUnions(ajv.getSchema(SCHEMA_BASE + relative)!.schema, SCHEMA_BASE + relative);

const validators: Record<DocumentKind, ValidateFunction> = {
  api: ajv.getSchema(`${SCHEMA_BASE}api.schema.json`)!,
  plan: ajv.getSchema(`${SCHEMA_BASE}plan.schema.json`)!,
  subscription: ajv.getSchema(`${SCHEMA_BASE}subscription.schema.json`)!,
  environment: ajv.getSchema(`${SCHEMA_BASE}environment.schema.json`)!,
};

/**
 * Validate one parsed file against the schema of its kind; fills defaults into `file.value`.
 * Returns [] when valid.
 */
export function validateDocument(file: ParsedFile, kind: DocumentKind): Diagnostic[] {
  const validate = validators[kind];
  if (validate(file.value)) return [];
  return toDiagnostics(file, validate.errors ?? []);
}

function toDiagnostics(file: ParsedFile, errors: readonly ErrorObject[]): Diagnostic[] {
  // A failing oneOf (a secret reference) reports each branch too: keep only the oneOf error.
  const oneOfs = new Map<string, ErrorObject[]>();
  for (const error of errors) {
    if (error.keyword !== 'oneOf') continue;
    const at = oneOfs.get(error.instancePath);
    if (at) at.push(error);
    else oneOfs.set(error.instancePath, [error]);
  }
  const missingTags = new Set(
    errors.filter((e) => e.keyword === 'required').map((e) => `${e.instancePath}/${pointerToken(String(e.params.missingProperty))}`),
  );
  const typos = typosOfRequired(errors);
  const out: Diagnostic[] = [];
  const seen = new Set<string>();
  for (const error of errors) {
    if (beneathOneOf(error, oneOfs)) continue;
    // "contextPath" for "contextPaths": the unknown-property diagnostic says it all.
    if (error.keyword === 'required' && typos.has(`${error.instancePath}\0${String(error.params.missingProperty)}`)) continue;
    if (error.keyword === 'discriminator' && error.params.error === 'tag' && missingTags.has(`${error.instancePath}/${pointerToken(String(error.params.tag))}`)) continue;
    const diagnostic = toDiagnostic(file, error);
    const key = `${diagnostic.pointer}\0${diagnostic.code}\0${diagnostic.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(diagnostic);
  }
  return out;
}

/**
 * Missing required properties ("path\0name") for which the same object has an unknown property
 * that is a plausible typo of that name.
 */
function typosOfRequired(errors: readonly ErrorObject[]): Set<string> {
  const missing = new Map<string, string[]>();
  for (const e of errors) {
    if (e.keyword !== 'required') continue;
    const names = missing.get(e.instancePath);
    if (names) names.push(String(e.params.missingProperty));
    else missing.set(e.instancePath, [String(e.params.missingProperty)]);
  }
  const out = new Set<string>();
  for (const e of errors) {
    const names = e.keyword === 'additionalProperties' ? missing.get(e.instancePath) : undefined;
    const match = names && closest(String(e.params.additionalProperty), names);
    if (match) out.add(`${e.instancePath}\0${match}`);
  }
  return out;
}

/** Whether `error` reports a branch of a failing oneOf at its instance path or above (O(depth), not O(errors)). */
function beneathOneOf(error: ErrorObject, oneOfs: ReadonlyMap<string, readonly ErrorObject[]>): boolean {
  let path = error.instancePath;
  for (;;) {
    for (const oneOf of oneOfs.get(path) ?? []) {
      if (oneOf !== error && error.schemaPath.startsWith(`${oneOf.schemaPath}/`)) return true;
    }
    if (path === '') return false;
    path = path.slice(0, path.lastIndexOf('/'));
  }
}

function toDiagnostic(file: ParsedFile, error: ErrorObject): Diagnostic {
  const pointer = error.instancePath;
  const where = describePointer(pointer);
  const parent = (error.parentSchema ?? {}) as { title?: string; properties?: Record<string, unknown> };
  const got = (value: unknown) => `; got ${JSON.stringify(value)}`;
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required': {
      const name = String(params.missingProperty);
      return diagnosticAt(file, pointer, 'SCHEMA_REQUIRED', `missing required property "${name}"${pointer ? ` in ${where}` : ''}`);
    }
    case 'additionalProperties': {
      const name = String(params.additionalProperty);
      const allowed = Object.keys(parent.properties ?? {}).filter((key) => key !== '$schema');
      const suggestion = closest(name, allowed);
      const context = pointer ? ` in ${where}` : '';
      const hint = suggestion ? `; did you mean "${suggestion}"?` : allowed.length ? `; allowed: ${allowed.join(', ')}` : '';
      return diagnosticAt(file, `${pointer}/${pointerToken(name)}`, 'SCHEMA_UNKNOWN_PROPERTY', `unknown property "${name}"${context}${hint}`, 'key');
    }
    case 'discriminator': {
      const tag = String(params.tag);
      const union = unions.get(parent.title ?? '');
      if (params.error === 'mapping') {
        const value = String(params.tagValue);
        const noun = union?.noun ?? `"${tag}"`;
        const suggestion = union ? closest(value, union.values) : undefined;
        const allowed = union ? `; allowed: ${union.values.join(', ')}` : '';
        return diagnosticAt(
          file,
          `${pointer}/${pointerToken(tag)}`,
          'SCHEMA_UNKNOWN_TYPE',
          `unknown ${noun} "${value}"${suggestion ? ` (did you mean "${suggestion}"?)` : ''}${allowed}`,
        );
      }
      return diagnosticAt(file, `${pointer}/${pointerToken(tag)}`, 'SCHEMA_TYPE', `${describePointer(`${pointer}/${pointerToken(tag)}`)} must be a string`);
    }
    case 'oneOf':
      if (parent.title === 'SecretRef') {
        return diagnosticAt(file, pointer, 'SCHEMA_SECRET_REF', `${where} must be a secret reference {"env": "NAME"} or {"file": "PATH"}${typeof error.data === 'string' ? ', never the secret itself' : ''}`);
      }
      return diagnosticAt(file, pointer, 'SCHEMA_ONE_OF', `${where} matches none of its allowed shapes`);
    case 'type':
      return diagnosticAt(file, pointer, 'SCHEMA_TYPE', `${where} must be ${article(String(params.type))}${got(error.data)}`);
    case 'enum':
      return diagnosticAt(file, pointer, 'SCHEMA_ENUM', `${where} must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}${got(error.data)}`);
    case 'const':
      return diagnosticAt(file, pointer, 'SCHEMA_CONST', `${where} must be ${JSON.stringify(params.allowedValue)}${got(error.data)}`);
    case 'pattern':
      return diagnosticAt(file, pointer, 'SCHEMA_PATTERN', `${where} ${PATTERNS[String(params.pattern)] ?? `must match ${String(params.pattern)}`}${got(error.data)}`);
    case 'format':
      return diagnosticAt(file, pointer, 'SCHEMA_FORMAT', `${where} must be a valid ${String(params.format)}${got(error.data)}`);
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return diagnosticAt(file, pointer, 'SCHEMA_RANGE', `${where} must be ${String(params.comparison)} ${String(params.limit)}${got(error.data)}`);
    case 'minLength':
      return diagnosticAt(file, pointer, 'SCHEMA_SIZE', params.limit === 1 ? `${where} must not be empty` : `${where} must have at least ${String(params.limit)} characters`);
    case 'maxLength':
      return diagnosticAt(file, pointer, 'SCHEMA_SIZE', `${where} must have at most ${String(params.limit)} characters`);
    case 'minItems':
      return diagnosticAt(file, pointer, 'SCHEMA_SIZE', `${where} must have at least ${String(params.limit)} item${params.limit === 1 ? '' : 's'}`);
    case 'maxItems':
      return diagnosticAt(file, pointer, 'SCHEMA_SIZE', `${where} must have at most ${String(params.limit)} items`);
    case 'uniqueItems':
      return diagnosticAt(file, `${pointer}/${String(params.i)}`, 'SCHEMA_DUPLICATE_ITEM', `${where} has the same item twice (#${String(params.j)} and #${String(params.i)})`);
    default:
      return diagnosticAt(file, pointer, 'SCHEMA_INVALID', `${where} ${error.message ?? 'is invalid'}`);
  }
}

/** What the schemas' patterns mean, in words. */
const PATTERNS: Record<string, string> = {
  "^/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$": 'must be a path starting with "/" (letters, digits and URL path characters)',
  '^[^\\s:]+:[0-9]{1,5}$': 'must be host:port',
  '^https?://': 'must be an http:// or https:// URL',
  '^[a-z0-9][a-z0-9-]*$': 'must be a plan key (lowercase letters, digits and dashes: the plan file name without .json)',
  '^[A-Za-z_][A-Za-z0-9_]*$': 'must be an environment variable name',
  '^[^#+]*$': 'must be a topic without the wildcards # and +',
};

function article(type: string): string {
  const words = type.split(',').map((t) => (t === 'object' || t === 'array' || t === 'integer' ? `an ${t}` : t === 'null' ? 'null' : `a ${t}`));
  return words.join(' or ');
}

/** The closest allowed word when it is plausibly a typo (edit distance at most a third of its length). */
function closest(word: string, allowed: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of allowed) {
    // Lengths this far apart are no typo (and a 500 KiB key must not cost 500 KiB × each name).
    if (Math.abs(word.length - candidate.length) > Math.max(1, Math.floor(candidate.length / 3))) continue;
    const d = distance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best !== undefined && bestDistance > 0 && bestDistance <= Math.max(1, Math.floor(best.length / 3)) ? best : undefined;
}

/** Edit distance where swapping two neighbouring letters ("nmae") counts as one edit (optimal string alignment). */
function distance(a: string, b: string): number {
  const rows: number[][] = [Array.from({ length: b.length + 1 }, (_, j) => j)];
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(rows[i - 1][j] + 1, row[j - 1] + 1, rows[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j], rows[i - 2][j - 2] + 1);
    }
    rows.push(row);
  }
  return rows[a.length][b.length];
}

/** Walk a schema; for every discriminated union, record its allowed tag values by title. */
function collectUnions(node: unknown, base: string): void {
  if (!node || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    for (const item of node) collectUnions(item, base);
    return;
  }
  const schema = node as Record<string, unknown>;
  const discriminator = schema.discriminator as { propertyName?: string } | undefined;
  if (discriminator?.propertyName && Array.isArray(schema.oneOf) && typeof schema.title === 'string') {
    const tag = discriminator.propertyName;
    const values = (schema.oneOf as { $ref?: string }[]).map((branch) => {
      const target = branch.$ref ? ajv.getSchema(new URL(branch.$ref, base).href)?.schema : branch;
      const property = (target as { properties?: Record<string, { const?: unknown }> } | undefined)?.properties?.[tag];
      return String(property?.const);
    });
    unions.set(schema.title, { noun: NOUNS[schema.title] ?? `${schema.title} ${tag}`, values });
  }
  for (const value of Object.values(schema)) collectUnions(value, base);
}
