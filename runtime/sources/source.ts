/**
 * Where bundles come from. A source reports each new candidate bundle (parsed JSON, not yet
 * validated) to `onBundle`, starting with the current one, until `signal` aborts. It never throws
 * for a bad bundle: it logs and waits for the next one (the RouterSwitch validates, and keeps the
 * last good one serving when a candidate fails).
 */
export interface BundleSource {
  /** For logs and /status, e.g. `file /srv/bundle.json`, `dir /srv/bundles`, `store https://…`. */
  readonly description: string;
  /** Resolves once the first candidate was reported (or the source gave up on it); keeps watching until `signal` aborts. */
  watch(onBundle: (candidate: unknown, origin: string) => Promise<void>, signal: AbortSignal): Promise<void>;
  /** Store sources: the release (tag, commit, deployment) a bundle it handed over belongs to, for /status. */
  release?(bundleId: string): Record<string, unknown> | undefined;
}
