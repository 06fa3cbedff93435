/**
 * What the Gravitee converter reports: every setting of the export it could not carry over, by JSON
 * path into the export (`$.api.listeners[0].paths[0].host`), with a code (docs/reference/errors.md,
 * "Import from Gravitee") and what to do.
 */
export type ImportCode =
  /** Sluice has no equivalent: the setting is left out. */
  | 'IMPORT_NOT_CARRIED'
  /** A secret of the export is not written to the folder: a `{"env": NAME}` reference stands for it. */
  | 'IMPORT_SECRET_REFERENCE'
  /** A Gravitee Expression Language expression is not converted (Sluice's expressions differ). */
  | 'IMPORT_EXPRESSION';

export interface ImportWarning {
  readonly path: string;
  readonly code: ImportCode;
  readonly message: string;
}

export class Warnings {
  readonly list: ImportWarning[] = [];
  notCarried(path: string, message: string): void {
    this.list.push({ path, code: 'IMPORT_NOT_CARRIED', message });
  }
  secret(path: string, message: string): void {
    this.list.push({ path, code: 'IMPORT_SECRET_REFERENCE', message });
  }
  expression(path: string, message: string): void {
    this.list.push({ path, code: 'IMPORT_EXPRESSION', message });
  }
  /** Every key of `object` not in `known` (and not empty), as not carried. */
  rest(path: string, object: unknown, known: readonly string[], what: string): void {
    if (!isObject(object)) return;
    for (const [key, value] of Object.entries(object)) {
      if (known.includes(key) || isEmpty(value)) continue;
      this.notCarried(`${path}.${key}`, `${what} setting "${key}" has no Sluice equivalent; left out`);
    }
  }
}

export const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
export const isEmpty = (value: unknown): boolean =>
  value === undefined || value === null || value === '' || (Array.isArray(value) && value.length === 0) || (isObject(value) && Object.keys(value).length === 0);
export const asArray = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
/** Gravitee enum values come as `KEY_LESS`, `key-less` or `AT_LEAST_ONCE`: compared lowercase with dashes. */
export const token = (value: unknown): string => String(value ?? '').toLowerCase().replace(/_/g, '-');
/** A lowercase name for files and env variables. */
export const slugOf = (value: string, fallback: string): string =>
  value.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63).replace(/-+$/, '') || fallback;
export const envName = (...parts: string[]): string => parts.join('_').toUpperCase().replace(/[^A-Z0-9]+/g, '_').replace(/^_+|_+$/g, '');
