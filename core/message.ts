/**
 * The one value that flows through Sluice. Immutable: a policy returns a new message.
 * `content` is bytes end to end; nothing re-encodes it on the way.
 */
export interface Message {
  /** Stable id; for resumable endpoints it is also the cursor that resumes *after* this message. */
  readonly id: string;
  readonly content: Buffer;
  readonly headers: Readonly<Record<string, string>>;
  readonly metadata: Readonly<Record<string, string | number | boolean | null>>;
  /** Milliseconds since the epoch (broker timestamp where the broker gives one). */
  readonly timestamp: number;
  /**
   * Who the message is being evaluated for (channels): set only while a caller-dependent flow runs
   * for one client (conditions read it as `request` and `caller`); never sent anywhere.
   */
  readonly context?: FlowContext;
}

/** What conditions see of the request and the caller (`request.params`, `caller.claims`, ...). */
export interface FlowContext {
  readonly request: { readonly params: Readonly<Record<string, string>>; readonly query: Readonly<Record<string, string>> };
  readonly caller: {
    readonly plan: string;
    readonly clientId?: string;
    readonly claims?: Readonly<Record<string, unknown>>;
    readonly application?: string;
  };
}

/** What a client publishes: the endpoint assigns id and timestamp. */
export type PublishMessage = Omit<Message, 'id' | 'timestamp'>;

export function message(fields: Partial<Message> & Pick<Message, 'id' | 'content'>): Message {
  return Object.freeze({ headers: {}, metadata: {}, timestamp: Date.now(), ...fields });
}
