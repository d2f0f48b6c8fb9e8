/**
 * Reading server payloads defensively: the wire is moving to `livestreamId` (from `streamId`) and ISO
 * instants in `*At` fields (from epoch milliseconds); the page reads either.
 */
export type Json = Record<string, unknown>;

export function str(v: unknown): string {
  return typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v);
}

export function num(v: unknown): number {
  return typeof v === 'number' ? v : Number(v ?? 0) || 0;
}

/** The stream id of a livestream payload, under its new or its old name. */
export function streamIdOf(d: Json): string {
  return str(d['livestreamId'] ?? d['streamId']);
}

/** An instant as epoch ms, from a number or an ISO string; 0 when absent. */
export function instantMs(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v !== '') return Date.parse(v) || 0;
  return 0;
}
