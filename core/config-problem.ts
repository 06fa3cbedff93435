/** A problem in an endpoint's configuration the compiler reports (core/connectors.ts); a leaf module, so per-connector checks import it without a cycle. */
export interface ConfigProblem {
  readonly at: string;
  readonly code: string;
  readonly message: string;
}
