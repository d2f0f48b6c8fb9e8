/**
 * Standalone auth: register, login, refresh, logout, me. Users live in MongoDB (`users`),
 * passwords are scrypt hashes (passwords.ts), tokens come from TokenIssuer (tokens.ts).
 *
 * Reads and writes go straight to MongoDB, not through the durable write queue: auth is not on
 * the socket path, and a client must be able to log in the moment registration answered.
 * Tokens from an external issuer keep working: the guard verifies both kinds with the same
 * verifier, and /api/auth/me answers for a user it has no record of (`source: "external"`).
 */
import { Type, type Static } from '@sinclair/typebox';
import type { Collection } from 'mongodb';
import type { Core, ModuleFactory } from '../../core.js';
import { defineRoute } from '../../gateway/http/route.js';
import { AppError } from '../../kernel/errors.js';
import { DateTime, iso, newId } from '../../kernel/schemas.js';
import type { Role } from '../../kernel/session.js';
import { isDuplicateKey } from '../../store/mongo.js';
import { decoyHash, hashPassword, verifyPassword } from './passwords.js';
import { TokenIssuer } from './tokens.js';

export interface UserDoc {
  _id: string;
  email: string;
  username: string;
  usernameLower: string;
  displayName: string;
  passwordHash: string;
  role: Role;
  createdAt: Date;
  updatedAt: Date;
}

export const USERS = 'users';

const Email = Type.String({ format: 'email', maxLength: 254 });
const Username = Type.String({ pattern: '^[A-Za-z0-9_.]{3,30}$', description: '3-30 letters, digits, _ or .' });
const Password = Type.String({ minLength: 8, maxLength: 128 });
const RefreshToken = Type.String({ minLength: 1, maxLength: 512 });
const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);

const User = Type.Object(
  {
    id: Type.String(),
    email: Nullable(Type.String()),
    username: Nullable(Type.String()),
    displayName: Nullable(Type.String()),
    role: Type.Union([Type.Literal('user'), Type.Literal('admin'), Type.Literal('service')]),
    createdAt: Nullable(DateTime),
    source: Type.Union([Type.Literal('local'), Type.Literal('external')], {
      description: 'external: the token came from another issuer; livegate has no record',
    }),
  },
  { $id: 'User', additionalProperties: false },
);

const TokenPair = Type.Object(
  {
    accessToken: Type.String(),
    refreshToken: Type.String(),
    tokenType: Type.Literal('Bearer'),
    expiresAt: { ...DateTime, description: 'when the access token expires' },
    refreshExpiresAt: { ...DateTime, description: 'when the refresh token expires' },
  },
  { $id: 'TokenPair', additionalProperties: false },
);

const AuthSession = Type.Object({ user: User, tokens: TokenPair }, { $id: 'AuthSession', additionalProperties: false });

const RegisterBody = Type.Object(
  { email: Email, username: Username, password: Password, displayName: Type.Optional(Type.String({ minLength: 1, maxLength: 60 })) },
  { $id: 'RegisterRequest', additionalProperties: false },
);
const LoginBody = Type.Object(
  {
    email: Type.Optional(Type.String({ minLength: 1, maxLength: 254 })),
    username: Type.Optional(Type.String({ minLength: 1, maxLength: 30 })),
    password: Type.String({ minLength: 1, maxLength: 128 }),
  },
  { $id: 'LoginRequest', additionalProperties: false, description: 'email or username, and the password' },
);
const RefreshBody = Type.Object({ refreshToken: RefreshToken }, { $id: 'RefreshRequest', additionalProperties: false });
const LogoutResult = Type.Object({ revoked: Type.Boolean() }, { $id: 'LogoutResult', additionalProperties: false });

type UserView = Static<typeof User>;

const view = (u: UserDoc): UserView => ({
  id: u._id,
  email: u.email,
  username: u.username,
  displayName: u.displayName,
  role: u.role,
  createdAt: iso(u.createdAt),
  source: 'local',
});

export const authModule: ModuleFactory = (core: Core) => {
  const users = (): Collection<UserDoc> => core.documents.db().collection<UserDoc>(USERS);
  const tokens = new TokenIssuer(core.config, () => core.documents.db());
  const tags = ['auth'];

  const routes = [
    defineRoute(
      {
        method: 'post',
        path: '/api/auth/register',
        operationId: 'register',
        summary: 'Create an account and log in',
        tags,
        auth: 'none',
        body: RegisterBody,
        response: AuthSession,
        status: 201,
        errors: ['conflict'],
      },
      async ({ body }) => {
        const email = body.email.toLowerCase();
        const usernameLower = body.username.toLowerCase();
        const taken = await users().findOne({ $or: [{ email }, { usernameLower }] }, { projection: { email: 1 } });
        if (taken) throw new AppError('conflict', taken.email === email ? 'email is already registered' : 'username is taken');
        const now = new Date();
        const user: UserDoc = {
          _id: newId(),
          email,
          username: body.username,
          usernameLower,
          displayName: body.displayName ?? body.username,
          passwordHash: await hashPassword(body.password),
          role: 'user',
          createdAt: now,
          updatedAt: now,
        };
        try {
          await users().insertOne(user);
        } catch (err) {
          if (isDuplicateKey(err)) throw new AppError('conflict', 'email or username is already registered');
          throw err;
        }
        core.log.info({ userId: user._id }, 'user registered');
        return { user: view(user), tokens: await tokens.issue(user._id, user.role) };
      },
    ),
    defineRoute(
      {
        method: 'post',
        path: '/api/auth/login',
        operationId: 'login',
        summary: 'Log in with email or username and password',
        tags,
        auth: 'none',
        body: LoginBody,
        response: AuthSession,
        errors: ['unauthorized'],
      },
      async ({ body }) => {
        if (!body.email && !body.username) throw new AppError('validation_failed', 'body: give email or username');
        const query = body.email ? { email: body.email.toLowerCase() } : { usernameLower: (body.username ?? '').toLowerCase() };
        const user = await users().findOne(query);
        // Unknown user and wrong password take the same time and give the same answer.
        const ok = await verifyPassword(body.password, user?.passwordHash ?? (await decoyHash()));
        if (!user || !ok) throw new AppError('unauthorized', 'invalid credentials');
        return { user: view(user), tokens: await tokens.issue(user._id, user.role) };
      },
    ),
    defineRoute(
      {
        method: 'post',
        path: '/api/auth/refresh',
        operationId: 'refreshTokens',
        summary: 'Rotate a refresh token into a new token pair',
        description: 'Each refresh token works once. Presenting a used one revokes every token of that login (reuse detection).',
        tags,
        auth: 'none',
        body: RefreshBody,
        response: TokenPair,
        errors: ['unauthorized'],
      },
      async ({ body }) => tokens.rotate(body.refreshToken),
    ),
    defineRoute(
      {
        method: 'post',
        path: '/api/auth/logout',
        operationId: 'logout',
        summary: 'Revoke the refresh token family of this login',
        tags,
        auth: 'user',
        body: RefreshBody,
        response: LogoutResult,
      },
      async ({ body, principal }) => ({ revoked: await tokens.revoke(body.refreshToken, principal.userId) }),
    ),
    defineRoute(
      { method: 'get', path: '/api/auth/me', operationId: 'getMe', summary: 'The authenticated user', tags, auth: 'user', response: User },
      async ({ principal }) => {
        const user = await users().findOne({ _id: principal.userId });
        if (user) return view(user);
        return { id: principal.userId, email: null, username: null, displayName: null, role: principal.role, createdAt: null, source: 'external' as const };
      },
    ),
  ];

  return { name: 'auth', routes };
};
