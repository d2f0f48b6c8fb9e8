import { Type } from '@sinclair/typebox';

/** Largest token accepted by `session:refresh` (a provider's ID token is 1-2 KB). */
export const MAX_TOKEN_LENGTH = 16 * 1024;

export const RefreshRequest = Type.Object({ token: Type.String({ minLength: 1, maxLength: MAX_TOKEN_LENGTH }) }, { additionalProperties: false });

export const UserId = Type.String({ minLength: 1, maxLength: 128 });

export const RevokeRequest = Type.Object(
  {
    /** Tokens issued before this instant are refused (default: now). */
    issuedBefore: Type.Optional(
      Type.String({ format: 'date-time', description: 'ISO-8601 UTC; default now. Tokens with an older `iat` (or none) are refused; not in the future.' }),
    ),
  },
  { $id: 'ServerRevokeSessions', additionalProperties: false },
);

export const RevokeResult = Type.Object(
  {
    userId: Type.String(),
    issuedBefore: Type.String({
      format: 'date-time',
      description: 'Tokens with an `iat` before this second are refused (the revocation instant rounded up to the second).',
    }),
    expiresAt: Type.String({ format: 'date-time', description: 'When the revocation lapses: issuedBefore + SESSION_REVOCATION_TTL_SEC.' }),
    closed: Type.Integer({ minimum: 0, description: 'Sessions closed on the node that took the request (the others close theirs on receipt).' }),
    nodes: Type.Integer({ minimum: 1, description: 'Nodes the revocation reached (this one included).' }),
  },
  { $id: 'ServerRevokeSessionsResult', additionalProperties: false },
);

const DateTimeString = Type.String({ format: 'date-time' });
/** Ack schemas of the session events (AsyncAPI, client types). */
export const SESSION_ACKS = {
  'session:info': Type.Object(
    { userId: Type.String(), nodeId: Type.String(), connectionId: Type.String(), serverTime: DateTimeString },
    { additionalProperties: false },
  ),
  'session:ping': Type.Object(
    { clientTime: Type.Number(), serverTime: Type.Integer({ description: 'milliseconds since the Unix epoch' }) },
    { additionalProperties: false },
  ),
};
export const REFRESH_ACKS = {
  'session:refresh': Type.Object({ userId: Type.String(), expiresAt: DateTimeString }, { additionalProperties: false }),
};
