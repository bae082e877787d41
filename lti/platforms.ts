import { generateKeyPair, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { DB } from '../src/db/schema.js';
import type { Clock } from '../src/shared/clock.js';
import type { LtiDocumentStore } from './documents.js';
import type { LtiTables } from './tables.js';

export type PlatformRow = Selectable<LtiTables['lti_platforms']>;

export interface NewPlatform {
  tenantId: string;
  issuer: string;
  clientId: string;
  deploymentIds: string[];
  name: string;
  authEndpoint: string;
  tokenEndpoint: string;
  jwksUrl: string;
  active: boolean;
  registeredBy: 'static' | 'dynamic';
}

const generateRsa = promisify(generateKeyPair);

/** The tool's key pair for one platform (ltijs keeps one per platform; its kid is the platform id). */
export async function newToolKeyPair(): Promise<{ kid: string; publicKey: string; privateKey: string }> {
  const { publicKey, privateKey } = await generateRsa('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  });
  return { kid: randomBytes(16).toString('hex'), publicKey, privateKey };
}

/**
 * Registers a platform for one tenant, in ltijs's shape (platform, platformStatus,
 * publickey, privatekey documents) and in `lti_platforms` (the tenant binding), in the
 * caller's transaction. The key pair is generated beforehand (outside the transaction).
 */
export async function insertPlatform(
  trx: Transaction<DB>,
  store: LtiDocumentStore,
  clock: Clock,
  p: NewPlatform,
  keys: { kid: string; publicKey: string; privateKey: string },
): Promise<PlatformRow> {
  forgetPlatformOrigins(p.tenantId);
  const now = clock.now();
  const row = await trx
    .insertInto('lti_platforms')
    .values({
      tenant_id: p.tenantId,
      issuer: p.issuer,
      client_id: p.clientId,
      deployment_ids: p.deploymentIds,
      name: p.name,
      auth_endpoint: p.authEndpoint,
      token_endpoint: p.tokenEndpoint,
      jwks_url: p.jwksUrl,
      kid: keys.kid,
      active: p.active,
      registered_by: p.registeredBy,
      created_at: now,
      updated_at: now,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  const ref = { platformUrl: p.issuer, clientId: p.clientId };
  await store.replaceIn(trx, 'platform', ref, {
    platformName: p.name,
    ...ref,
    authEndpoint: p.authEndpoint,
    accesstokenEndpoint: p.tokenEndpoint,
    kid: keys.kid,
    authConfig: { method: 'JWK_SET', key: p.jwksUrl },
  });
  await store.replaceIn(trx, 'platformStatus', { id: keys.kid }, { id: keys.kid, active: p.active });
  await store.replaceIn(trx, 'publickey', { kid: keys.kid }, { key: keys.publicKey, kid: keys.kid }, { kid: keys.kid, ...ref });
  await store.replaceIn(trx, 'privatekey', { kid: keys.kid }, { key: keys.privateKey, kid: keys.kid }, { kid: keys.kid, ...ref });
  return row;
}

export async function setPlatformActive(trx: Transaction<DB>, store: LtiDocumentStore, clock: Clock, platform: PlatformRow, active: boolean): Promise<PlatformRow> {
  forgetPlatformOrigins(platform.tenant_id);
  const row = await trx
    .updateTable('lti_platforms')
    .set({ active, updated_at: clock.now() })
    .where('id', '=', platform.id)
    .returningAll()
    .executeTakeFirstOrThrow();
  await store.replaceIn(trx, 'platformStatus', { id: platform.kid }, { id: platform.kid, active });
  return row;
}

export async function deletePlatform(trx: Transaction<DB>, platform: PlatformRow): Promise<void> {
  forgetPlatformOrigins(platform.tenant_id);
  await trx.deleteFrom('lti_platforms').where('id', '=', platform.id).execute();
  const ref = { platformUrl: platform.issuer, clientId: platform.client_id };
  for (const [collection, query] of [
    ['platform', ref],
    ['platformStatus', { id: platform.kid }],
    ['publickey', { kid: platform.kid }],
    ['privatekey', { kid: platform.kid }],
    ['accesstoken', ref],
  ] as const) {
    await trx.deleteFrom('lti_documents').where('collection', '=', collection).where('doc', '@>', sql<Record<string, unknown>>`${JSON.stringify(query)}::jsonb`).execute();
  }
}

export async function platformsOfTenant(db: Kysely<DB>, tenantId: string): Promise<PlatformRow[]> {
  return db.selectFrom('lti_platforms').selectAll().where('tenant_id', '=', tenantId).orderBy('created_at').execute();
}

export async function platformOfTenant(db: Kysely<DB>, tenantId: string, id: string): Promise<PlatformRow | null> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) return null;
  return (await db.selectFrom('lti_platforms').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst()) ?? null;
}

/** The registration a launch names by (issuer, client id); tenant and activity are checked by the caller. */
export async function findPlatform(db: Kysely<DB>, issuer: string, clientId: string): Promise<PlatformRow | null> {
  return (await db.selectFrom('lti_platforms').selectAll().where('issuer', '=', issuer).where('client_id', '=', clientId).executeTakeFirst()) ?? null;
}

/**
 * How long this process reuses a tenant's framing origins. Changes made through this process
 * (register, activate, deactivate, delete) take effect at once; another replica's change
 * within this many milliseconds (a deactivated platform may frame pages that long).
 */
export const PLATFORM_ORIGINS_TTL_MS = 5000;
const originsCache = new Map<string, { until: number; origins: Promise<string[]> }>();

function forgetPlatformOrigins(tenantId: string): void {
  originsCache.delete(tenantId);
}

/** activePlatformOrigins, reused for PLATFORM_ORIGINS_TTL_MS (every framed page asks for them). */
export function cachedPlatformOrigins(db: Kysely<DB>, tenantId: string): Promise<string[]> {
  const now = Date.now();
  const hit = originsCache.get(tenantId);
  if (hit && hit.until > now) return hit.origins;
  const origins = activePlatformOrigins(db, tenantId);
  originsCache.set(tenantId, { until: now + PLATFORM_ORIGINS_TTL_MS, origins });
  origins.catch(() => originsCache.delete(tenantId));
  if (originsCache.size > 10_000) originsCache.clear();
  return origins;
}

/** Origins of the tenant's active platforms (for CSP frame-ancestors). */
export async function activePlatformOrigins(db: Kysely<DB>, tenantId: string): Promise<string[]> {
  const rows = await db.selectFrom('lti_platforms').select(['issuer', 'auth_endpoint']).where('tenant_id', '=', tenantId).where('active', '=', true).execute();
  const origins = new Set<string>();
  for (const row of rows) {
    for (const url of [row.issuer, row.auth_endpoint]) {
      try {
        origins.add(new URL(url).origin);
      } catch {
        /* a malformed URL is not an origin */
      }
    }
  }
  return [...origins].sort();
}
