import type { Kysely } from 'kysely';
import type { SecretBox } from '../crypto/secrets.js';
import type { DB } from '../db/schema.js';
import type { Clock } from '../shared/clock.js';
import { DEFAULT_RULES, mappingRulesSchema, type MappingRule } from './policy.js';

export const DEFAULT_SCOPES = 'openid profile email uuid groups roles';

/** Where the sealed client secret belongs; a copy in another tenant's row will not open. */
export const secretPlace = (tenantId: string) => `iserv:${tenantId}:client-secret`;

export interface IServConfig {
  tenantId: string;
  baseUrl: string;
  issuer: string | null;
  clientId: string;
  clientSecret: string;
  scopes: string;
  updatedAt: Date;
}

/** The tenant's IServ with the client secret opened (for the login only). */
export async function loadConfig(db: Kysely<DB>, secrets: SecretBox, tenantId: string): Promise<IServConfig | null> {
  const row = await db.selectFrom('iserv_configs').selectAll().where('tenant_id', '=', tenantId).executeTakeFirst();
  if (!row) return null;
  return {
    tenantId,
    baseUrl: row.base_url,
    issuer: row.issuer,
    clientId: row.client_id,
    clientSecret: secrets.openText(row.client_secret_sealed, secretPlace(tenantId)),
    scopes: row.scopes,
    updatedAt: row.updated_at,
  };
}

/** As admins see it: never the secret. */
export async function describeConfig(db: Kysely<DB>, tenantId: string) {
  const row = await db
    .selectFrom('iserv_configs')
    .select(['base_url', 'issuer', 'client_id', 'scopes', 'created_at', 'updated_at'])
    .where('tenant_id', '=', tenantId)
    .executeTakeFirst();
  return row ?? null;
}

/** The tenant's rules, or the defaults when it has none. */
export async function loadRules(db: Kysely<DB>, tenantId: string): Promise<{ rules: MappingRule[]; isDefault: boolean; updatedAt: Date | null }> {
  const row = await db.selectFrom('iserv_role_mappings').select(['rules', 'updated_at']).where('tenant_id', '=', tenantId).executeTakeFirst();
  if (!row) return { rules: [...DEFAULT_RULES], isDefault: true, updatedAt: null };
  return { rules: mappingRulesSchema.parse(row.rules), isDefault: false, updatedAt: row.updated_at };
}

export interface PendingLogin {
  stateHash: string;
  tenantId: string;
  browserHash: string;
  nonce: string;
  codeVerifier: string;
}

const loginPlace = (tenantId: string, stateHash: string) => `iserv-login:${tenantId}:${stateHash}`;

export async function insertLogin(db: Kysely<DB>, secrets: SecretBox, clock: Clock, login: PendingLogin, lifetimeMs: number): Promise<void> {
  const now = clock.now();
  await db
    .insertInto('iserv_logins')
    .values({
      state_hash: login.stateHash,
      tenant_id: login.tenantId,
      browser_hash: login.browserHash,
      secrets_sealed: secrets.seal(JSON.stringify({ nonce: login.nonce, codeVerifier: login.codeVerifier }), loginPlace(login.tenantId, login.stateHash)),
      created_at: now,
      expires_at: new Date(now.getTime() + lifetimeMs),
    })
    .execute();
}

/**
 * Takes a pending login out of the table: it can be used once (a replayed
 * answer finds nothing), only in its own tenant (ACC-04) and only before expiry.
 */
export async function consumeLogin(db: Kysely<DB>, secrets: SecretBox, clock: Clock, tenantId: string, stateHash: string): Promise<PendingLogin | null> {
  const row = await db
    .deleteFrom('iserv_logins')
    .where('state_hash', '=', stateHash)
    .where('tenant_id', '=', tenantId)
    .returningAll()
    .executeTakeFirst();
  if (!row || row.expires_at <= clock.now()) return null;
  const opened = JSON.parse(secrets.openText(row.secrets_sealed, loginPlace(tenantId, stateHash))) as { nonce: string; codeVerifier: string };
  return { stateHash, tenantId, browserHash: row.browser_hash, nonce: opened.nonce, codeVerifier: opened.codeVerifier };
}

/** Removes logins nobody finished (called lazily on each new login and by a cleanup job). */
export async function purgeLogins(db: Kysely<DB>, clock: Clock): Promise<number> {
  const result = await db.deleteFrom('iserv_logins').where('expires_at', '<=', clock.now()).executeTakeFirst();
  return Number(result.numDeletedRows);
}
