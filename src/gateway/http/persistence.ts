/**
 * HTTP/1.1 persistent connections (RFC 9112 §9.3, §9.6): a request with `Connection: close` is
 * the last on its connection, and the server must say so in its response (`Connection: close`)
 * before closing. uWS closes such a connection after the response but does not echo the header,
 * which makes pooling clients (node-fetch's agents) reuse a socket that is going away. Every
 * response that may follow a `Connection: close` request goes through `endResponse`.
 */
import type { HttpResponse, RecognizedString } from 'uWebSockets.js';

/**
 * What happens to the connection after a response: kept, closed because the request said
 * `Connection: close`, or closed by the server (a request body left unread, whose rest is not a
 * next request).
 */
export type Persistence = 'keep' | 'client_close' | 'server_close';

/** The persistence a request asks for: its Connection header carries `close` (a comma list, any case), or not. */
export function requested(connection: string | undefined): Persistence {
  return connection !== undefined && connection.split(',').some((option) => option.trim().toLowerCase() === 'close') ? 'client_close' : 'keep';
}

/**
 * Ends a (corked) response. uWS writes `Connection: close` itself when the server closes, but not
 * when the client asked for the close; here the response says it in both cases, once.
 */
export function endResponse(res: HttpResponse, persistence: Persistence, body?: RecognizedString): void {
  if (persistence === 'client_close') res.writeHeader('connection', 'close');
  res.end(body, persistence !== 'keep');
}
