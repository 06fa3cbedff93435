/**
 * A broker answer with a deadline: `promise`, or `onTimeout()`'s error once `ms` passed, whichever
 * comes first; the timer never outlives the race. Used by every endpoint that waits on a broker
 * acknowledgement (publish acks and confirms, dead letters, first connects).
 */
export async function withDeadline<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}
