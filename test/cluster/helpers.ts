/** Small helpers shared by the cluster suites. */

/**
 * Waits until a condition holds, checking it on every event-loop turn spaced by `everyMs`.
 * For state that has no event to await (a Redis counter, a subscription count); fails loudly.
 */
export async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs = 10_000, everyMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms: ${check.toString().slice(0, 200)}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
