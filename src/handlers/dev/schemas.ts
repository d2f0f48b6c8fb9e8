/** Wire shapes of the development token endpoint. */
import { Type, type Static } from '@sinclair/typebox';

export const DevTokenRequest = Type.Object(
  {
    userId: Type.String({ pattern: '^[A-Za-z0-9_.:-]{1,64}$', description: 'the user to sign in as (becomes the token `sub`)' }),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 60, description: 'display name, carried as the `name` claim (default: the user id)' })),
  },
  { $id: 'DevTokenRequest', additionalProperties: false },
);

export const DevToken = Type.Object(
  {
    token: Type.String({ description: 'HS256 JWT signed with JWT_SECRET: socket `auth.token` or `Authorization: Bearer`' }),
    tokenType: Type.Literal('Bearer'),
    userId: Type.String(),
    name: Type.String(),
    expiresAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'DevToken', additionalProperties: false },
);

export type DevTokenRequest = Static<typeof DevTokenRequest>;
export type DevToken = Static<typeof DevToken>;
