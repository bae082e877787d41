import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.js';
import { hashToken, sameHash } from '../crypto/secrets.js';
import type { Clock } from '../shared/clock.js';
import { MINUTE } from '../shared/clock.js';
import type { Principal, Scope } from './principal.js';

/**
 * Resolves a bearer token to a principal: the operator credential, or a live,
 * unexpired, unrevoked token of a live tenant. Anything else is null (→ 401).
 */
export async function authenticateToken(
  db: Kysely<DB>,
  clock: Clock,
  operatorTokenHash: string,
  token: string,
): Promise<Principal | null> {
  const hash = hashToken(token);
  if (sameHash(hash, operatorTokenHash)) return { kind: 'operator' };
  const now = clock.now();
  const row = await db
    .selectFrom('api_tokens')
    .innerJoin('tenants', 'tenants.id', 'api_tokens.tenant_id')
    .select(['api_tokens.id', 'api_tokens.tenant_id', 'api_tokens.scopes', 'api_tokens.expires_at', 'api_tokens.last_used_at'])
    .where('api_tokens.token_hash', '=', hash)
    .where('api_tokens.revoked_at', 'is', null)
    .where('tenants.deleted_at', 'is', null)
    .executeTakeFirst();
  if (!row || (row.expires_at && row.expires_at <= now)) return null;
  // Coarse "last used" so admins can spot stale tokens, without a write per request.
  if (!row.last_used_at || now.getTime() - row.last_used_at.getTime() > 5 * MINUTE) {
    void db.updateTable('api_tokens').set({ last_used_at: now }).where('id', '=', row.id).execute().catch(() => undefined);
  }
  return { kind: 'token', tokenId: row.id, tenantId: row.tenant_id, scopes: row.scopes as Scope[] };
}

export function bearerToken(header: string | undefined): string | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1] ?? null;
}
