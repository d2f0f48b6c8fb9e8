/**
 * Where the user id and the role come from in a verified claim set. Providers differ: Firebase and
 * Supabase put the app's user id in `sub`, Auth0 often in a namespaced claim
 * (`https://app.example.com/user_id`), Cognito keeps groups in `cognito:groups`, Supabase the app
 * role in `app_metadata.role`. A claim name is looked up whole first (so a namespaced URL with dots
 * works), then as a dotted path into nested objects.
 */
import type { ClaimMapping } from '../../config.js';
import type { Role } from '../../kernel/session.js';

/** Longest accepted user id (a longer one is refused as `claim_too_long`). */
export const MAX_USER_ID_LENGTH = 128;

export function readClaim(claims: Readonly<Record<string, unknown>>, name: string): unknown {
  if (Object.hasOwn(claims, name)) return claims[name];
  if (!name.includes('.')) return undefined;
  let value: unknown = claims;
  for (const part of name.split('.')) {
    if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.hasOwn(value, part)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** admin beats service beats user when a groups array holds several. */
export function roleOf(value: unknown, mapping: Pick<ClaimMapping, 'adminRoles' | 'serviceRoles'>): Role {
  const values = typeof value === 'string' ? [value] : Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  if (values.some((v) => mapping.adminRoles.includes(v))) return 'admin';
  if (values.some((v) => mapping.serviceRoles.includes(v))) return 'service';
  return 'user';
}
