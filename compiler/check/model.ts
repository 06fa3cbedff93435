/** What the check stage's rule modules work on (check.ts runs them; they import only this). */
import type { Api, Plan, Subscription } from '../../schemas/types.ts';
import type { ParsedFile } from '../source.ts';

/** A validated document and the file it came from (for positions). */
export interface Located<T> {
  file: ParsedFile;
  value: T;
}

/** One API folder after validation. Documents that failed validation are absent (their keys are kept). */
export interface ApiModel {
  id: string;
  /** Absent when api.json is missing, unparsable or invalid. */
  api?: Located<Api>;
  /** api.json when it parsed, valid or not (context paths are checked even in an invalid API). */
  parsedApi?: ParsedFile;
  plans: Map<string, Located<Plan>>;
  subscriptions: Map<string, Located<Subscription>>;
  /** Plan keys whose file exists but did not parse or validate (so references to them are not "unknown"). */
  brokenPlans: Set<string>;
}

/** Context a rule module gets. */
export interface CheckContext {
  profile?: 'production';
}
