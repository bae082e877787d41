import { createHash } from 'node:crypto';
import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import type { SecretBox } from '../src/crypto/secrets.js';
import type { DB } from '../src/db/schema.js';
import type { Clock } from '../src/shared/clock.js';

const SECOND = 1000;

type Doc = Record<string, unknown>;
type Db = Kysely<DB> | Transaction<DB>;

/** ltijs's collections and the lifetimes its mongoose schemas give them (`expires`), in ms. */
export const LTI_COLLECTIONS = {
  platform: null,
  platformStatus: null,
  publickey: null,
  privatekey: null,
  accesstoken: 3600 * SECOND,
  idtoken: 24 * 3600 * SECOND,
  contexttoken: 24 * 3600 * SECOND,
  nonce: 10 * SECOND,
  state: 600 * SECOND,
} as const satisfies Record<string, number | null>;
export type LtiCollection = keyof typeof LTI_COLLECTIONS;

function collectionOf(name: string): LtiCollection {
  if (!(name in LTI_COLLECTIONS)) throw new Error(`unknown ltijs collection: ${name}`);
  return name as LtiCollection;
}

/** JSON without `undefined` members (mongoose drops them too). */
const clean = (value: unknown): Doc => JSON.parse(JSON.stringify(value ?? {})) as Doc;

/**
 * ltijs's database plugin interface (`setup`, `Get`, `Insert`, `Replace`, `Modify`,
 * `Delete`, `Close`, `Encrypt`, `Decrypt`), implemented on our store instead of the
 * bundled mongoose, which is never connected.
 *
 * - Documents are matched like ltijs's equality queries: `doc @> query`.
 * - Lifetimes: expired documents are invisible on read (lazy expiry); `purgeExpiredLtiRecords`
 *   deletes them for good.
 * - Encryption: ltijs passes its encryption key for `publickey`, `privatekey` and
 *   `accesstoken`; we seal those payloads with AES-256-GCM through the service's SecretBox
 *   (authenticated, bound to the collection), instead of ltijs's unauthenticated AES-CBC.
 * - `Replace` and `Modify` run in one transaction under an advisory lock on the query.
 */
export class LtiDocumentStore {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly clock: Clock,
    private readonly secrets: SecretBox,
    private readonly lockNamespace: string,
  ) {}

  async setup(): Promise<boolean> {
    return true;
  }

  async Close(): Promise<boolean> {
    return true;
  }

  async Get(encryptionKey: unknown, collection: string, query?: Doc): Promise<Doc[] | false> {
    const name = collectionOf(collection);
    const rows = await this.select(this.db, name, query).execute();
    if (rows.length === 0) return false;
    return rows.map((row) => {
      if (!row.sealed) return { ...row.doc };
      if (!encryptionKey) return { ...row.doc };
      const payload = JSON.parse(this.secrets.openText(row.sealed, aad(name))) as Doc;
      return { ...payload, createdAt: row.created_at.getTime() };
    });
  }

  async Insert(encryptionKey: unknown, collection: string, item: Doc, index?: Doc): Promise<boolean> {
    const name = collectionOf(collection);
    if (!item || (encryptionKey && !index)) throw new Error('MISSING_PARAMS');
    await this.insert(this.db, name, item, encryptionKey ? index! : null);
    return true;
  }

  async Replace(encryptionKey: unknown, collection: string, query: Doc, item: Doc, index?: Doc): Promise<boolean> {
    const name = collectionOf(collection);
    if (!item || (encryptionKey && !index)) throw new Error('MISSING_PARAMS');
    await this.db.transaction().execute(async (trx) => {
      await this.lock(trx, name, query);
      const first = await this.select(trx, name, query).select('id').orderBy('id').limit(1).executeTakeFirst();
      if (first) await trx.deleteFrom('lti_documents').where('id', '=', first.id).execute();
      // An expired leftover would still hold the unique index.
      await this.deleteExpired(trx, name, query);
      await this.insert(trx, name, item, encryptionKey ? index! : null);
    });
    return true;
  }

  async Modify(encryptionKey: unknown, collection: string, query: Doc, modification: Doc): Promise<boolean> {
    const name = collectionOf(collection);
    if (!query || !modification) throw new Error('MISSING_PARAMS');
    await this.db.transaction().execute(async (trx) => {
      await this.lock(trx, name, query);
      const row = await this.select(trx, name, query).select('id').orderBy('id').limit(1).forUpdate().executeTakeFirst();
      if (!row) return;
      if (row.sealed && encryptionKey) {
        const payload = { ...(JSON.parse(this.secrets.openText(row.sealed, aad(name))) as Doc), ...clean(modification) };
        await trx.updateTable('lti_documents').set({ sealed: this.secrets.seal(JSON.stringify(payload), aad(name)) }).where('id', '=', row.id).execute();
      } else {
        await trx.updateTable('lti_documents').set({ doc: JSON.stringify({ ...row.doc, ...clean(modification) }) }).where('id', '=', row.id).execute();
      }
    });
    return true;
  }

  async Delete(collection: string, query: Doc): Promise<boolean> {
    const name = collectionOf(collection);
    if (!query) throw new Error('MISSING_PARAMS');
    await this.db.deleteFrom('lti_documents').where('collection', '=', name).where('doc', '@>', sql<Doc>`${JSON.stringify(clean(query))}::jsonb`).execute();
    return true;
  }

  /** ltijs's Encrypt/Decrypt signature, but AES-256-GCM: `iv` carries the sealed envelope's version tag. */
  async Encrypt(data: string, _secret?: unknown): Promise<{ iv: string; data: string }> {
    return { iv: 'gcm', data: this.secrets.seal(data, 'lti:encrypt') };
  }

  async Decrypt(data: string, iv: string, _secret?: unknown): Promise<string> {
    if (iv !== 'gcm') throw new Error('not sealed with AES-256-GCM');
    return this.secrets.openText(data, 'lti:encrypt');
  }

  /**
   * Takes a state (or any single-use document) exactly once: deleted and returned in one
   * statement, so two concurrent launches with the same state cannot both succeed.
   */
  async take(collection: LtiCollection, query: Doc): Promise<Doc | null> {
    const row = await this.db
      .deleteFrom('lti_documents')
      .where('collection', '=', collection)
      .where('doc', '@>', sql<Doc>`${JSON.stringify(clean(query))}::jsonb`)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', this.clock.now())]))
      .returning('doc')
      .executeTakeFirst();
    return row ? { ...row.doc } : null;
  }

  /**
   * Records a nonce unless a live one with the same value exists; false when it does (a
   * replay). One statement: an expired leftover is overwritten, a live one wins.
   */
  async insertNonce(nonce: string): Promise<boolean> {
    const result = await insertNonceSql(this.clock.now(), nonce).execute(this.db);
    return result.rows.length === 1;
  }

  /** Writes a document inside the caller's transaction (e.g. a platform's status with its registration). */
  async replaceIn(trx: Transaction<DB>, collection: LtiCollection, query: Doc, item: Doc, index: Doc | null = null): Promise<void> {
    await this.lock(trx, collection, query);
    await trx.deleteFrom('lti_documents').where('collection', '=', collection).where('doc', '@>', sql<Doc>`${JSON.stringify(clean(query))}::jsonb`).execute();
    await this.insert(trx, collection, item, index);
  }

  private select(db: Db, collection: LtiCollection, query?: Doc) {
    let q = db.selectFrom('lti_documents').select(['doc', 'sealed', 'created_at']).where('collection', '=', collection);
    if (query && Object.keys(clean(query)).length > 0) q = q.where('doc', '@>', sql<Doc>`${JSON.stringify(clean(query))}::jsonb`);
    return q.where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', this.clock.now())]));
  }

  private async insert(db: Db, collection: LtiCollection, item: Doc, index: Doc | null): Promise<void> {
    const now = this.clock.now();
    const lifetime = LTI_COLLECTIONS[collection];
    await db
      .insertInto('lti_documents')
      .values({
        collection,
        doc: JSON.stringify(clean(index ?? item)),
        sealed: index ? this.secrets.seal(JSON.stringify(clean(item)), aad(collection)) : null,
        created_at: now,
        expires_at: lifetime === null ? null : new Date(now.getTime() + lifetime),
      })
      .execute();
  }

  private async deleteExpired(db: Db, collection: LtiCollection, query: Doc): Promise<void> {
    await db
      .deleteFrom('lti_documents')
      .where('collection', '=', collection)
      .where('doc', '@>', sql<Doc>`${JSON.stringify(clean(query))}::jsonb`)
      .where('expires_at', '<=', this.clock.now())
      .execute();
  }

  private async lock(trx: Transaction<DB>, collection: string, query: Doc): Promise<void> {
    const key = createHash('sha256').update(`${this.lockNamespace}\0lti\0${collection}\0${JSON.stringify(clean(query))}`).digest().readBigInt64BE(0);
    await sql`select pg_advisory_xact_lock(${key.toString()}::bigint)`.execute(trx);
  }
}

const aad = (collection: string) => `lti:${collection}`;

/** Deletes every ltijs document past its lifetime (cleanup job); returns the count. */
export async function purgeExpiredLtiRecords(ctx: { db: Kysely<DB>; clock: Clock }): Promise<number> {
  const now = ctx.clock.now();
  const docs = await ctx.db.deleteFrom('lti_documents').where('expires_at', '<=', now).executeTakeFirst();
  const tokens = await ctx.db.deleteFrom('lti_registration_tokens').where('expires_at', '<=', now).executeTakeFirst();
  return Number(docs.numDeletedRows) + Number(tokens.numDeletedRows);
}

/**
 * The statement of LtiDocumentStore.insertNonce (returns one row exactly when the nonce is
 * fresh), for callers that make further writes of the same statement depend on it.
 */
export function insertNonceSql(now: Date, nonce: string): RawBuilder<{ id: string }> {
  const doc = JSON.stringify({ nonce });
  const expires = new Date(now.getTime() + LTI_COLLECTIONS.nonce);
  return sql<{ id: string }>`
    insert into lti_documents (collection, doc, sealed, created_at, expires_at)
    values ('nonce', ${doc}::jsonb, null, ${now}, ${expires})
    on conflict ((doc->>'nonce')) where collection = 'nonce'
    do update set created_at = excluded.created_at, expires_at = excluded.expires_at
    where lti_documents.expires_at <= ${now}
    returning id`;
}
