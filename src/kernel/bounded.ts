/** Resolves like `work`, or rejects after `ms` (the work itself keeps running; its outcome is dropped). */
export function bounded<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  work.catch(() => undefined); // abandoned work must not surface as an unhandled rejection
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
