/**
 * Sharding tags: a runtime started with `--tags edge,internal` serves only the APIs whose
 * `tags` share one of its tags; a runtime without `--tags` serves only untagged APIs. Several
 * fleets follow one repository (one store) this way. Applied by RouterSwitch each time a bundle is
 * loaded (a hot swap re-applies it); an API a runtime does not serve is not built there and its
 * paths answer 404.
 */

/** Tag names, as the API schema allows them. */
const TAG = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** `edge,internal` -> ['edge', 'internal']; throws naming the bad tag. */
export function parseTags(value: string): string[] {
  const tags = value.split(',').map((tag) => tag.trim()).filter((tag) => tag !== '');
  if (tags.length === 0) throw new Error('--tags needs at least one tag (e.g. --tags edge,internal)');
  const bad = tags.find((tag) => !TAG.test(tag));
  if (bad !== undefined) throw new Error(`--tags: "${bad}" is not a tag (lowercase letters, digits and dashes, as in an API's "tags")`);
  return [...new Set(tags)];
}

/** Whether a runtime with `runtimeTags` (undefined: no --tags) serves an API with `apiTags`. */
export function servesApi(runtimeTags: readonly string[] | undefined, apiTags: readonly string[] | undefined): boolean {
  if (!runtimeTags) return !apiTags || apiTags.length === 0;
  return (apiTags ?? []).some((tag) => runtimeTags.includes(tag));
}
