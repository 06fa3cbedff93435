/** The `failure` state of a webhook subscription: halted until resumed, and the wait for that. */
export class Halt {
  #halt: { readonly resumed: Promise<void>; readonly release: () => void } | undefined;

  get halted(): boolean {
    return this.#halt !== undefined;
  }

  /** Halts; false when it was halted already. */
  halt(): boolean {
    if (this.#halt) return false;
    let release!: () => void;
    const resumed = new Promise<void>((resolve) => (release = resolve));
    this.#halt = { resumed, release };
    return true;
  }

  /** Releases the waiters; false when it was not halted. */
  resume(): boolean {
    const halt = this.#halt;
    if (!halt) return false;
    this.#halt = undefined;
    halt.release();
    return true;
  }

  /** True once resumed (at once when not halted); false when `signal` aborted first. */
  async wait(signal: AbortSignal): Promise<boolean> {
    const halt = this.#halt;
    if (!halt) return true;
    if (signal.aborted) return false;
    let onAbort!: () => void;
    const aborted = new Promise<false>((resolve) => {
      onAbort = () => resolve(false);
      signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      return await Promise.race([halt.resumed.then(() => true as const), aborted]);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }
}
