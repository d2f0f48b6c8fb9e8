/**
 * The address an HTTP request came from. Behind a trusted reverse proxy (TRUST_PROXY=true, e.g. the
 * compose entry point) it is the last X-Forwarded-For entry: the one the proxy itself appended (nginx
 * `$proxy_add_x_forwarded_for`); entries before it are whatever the client sent and are ignored.
 */
export function clientAddress(socketAddress: string, forwardedFor: string | undefined, trustProxy: boolean): string {
  if (!trustProxy || !forwardedFor) return socketAddress;
  const last = forwardedFor.split(',').at(-1)?.trim();
  return last && last.length <= 64 ? last : socketAddress;
}
