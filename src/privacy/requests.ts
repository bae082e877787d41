import { sql, type Kysely, type Selectable } from 'kysely';
import type { AppContext } from '../context.js';
import { hashToken, newToken } from '../crypto/secrets.js';
import type { DB } from '../db/schema.js';
import { recordObjection } from '../consent/index.js';
import { MINUTE } from '../shared/clock.js';
import { ProblemError } from '../shared/errors.js';
import { toTenant } from '../tenants/store.js';
import { buildArchive, openArchive } from './archive.js';
import { EVENT_RULES, FINAL_STATUSES, OPEN_STATUSES, transition, type RequestEvent, type RequestStatus, type RequestType } from './policy.js';
import { eraseSubject, type CategoryResult } from './registry.js';
import type { PrivacyTables } from './tables.js';

type RequestRow = Selectable<PrivacyTables['privacy_requests']>;

/** A download link is good for this long, once. */
export const DOWNLOAD_LINK_TTL_MS = 15 * MINUTE;
const MESSAGE_MAX = 2000;

/**
 * Who acts on a request, as the bridge verified it: the data subject in their
 * own session, a DPO in a session (app role `dpo`), or an API token (`lms` or `dpo` scope).
 */
export type Actor =
  | { kind: 'subject'; tenantId: string; userId: string }
  | { kind: 'dpo-session'; tenantId: string; userId: string }
  | { kind: 'token'; tenantId: string; tokenId: string; scopes: readonly string[] }
  | { kind: 'system'; tenantId: string };

/** Whom a download link is bound to: the requester's own user id, or the DPO session / token. */
function linkHolder(actor: Actor): string {
  return actor.kind === 'subject' ? `subject:${actor.userId}` : actorName(actor);
}

/** How the admin-action log names the actor (RET-03): the requester as `subject` (the request names them), others by id. */
export function actorName(actor: Actor): string {
  switch (actor.kind) {
    case 'subject':
      return 'subject';
    case 'dpo-session':
      return `user:${actor.userId}`;
    case 'token':
      return `token:${actor.tokenId}`;
    case 'system':
      return 'system';
  }
}

const isDpo = (a: Actor) => a.kind === 'dpo-session' || (a.kind === 'token' && a.scopes.includes('dpo'));

export interface RequestView {
  id: string;
  userId: string;
  type: RequestType;
  status: RequestStatus;
  filedVia: string;
  categories: string[];
  hasMessage: boolean;
  dpoComment: string | null;
  result: Record<string, unknown> | null;
  error: string | null;
  createdAt: string;
  updatedAt: string;
  decidedAt: string | null;
  readyAt: string | null;
  finishedAt: string | null;
  /** RET-10: when the archive will be deleted. */
  downloadUntil: string | null;
}

export function present(row: RequestRow, exportFileDays = 7): RequestView {
  return {
    id: row.id,
    userId: row.user_id,
    type: row.type as RequestType,
    status: row.status as RequestStatus,
    filedVia: row.filed_via,
    categories: row.categories,
    hasMessage: row.message_sealed !== null,
    dpoComment: row.dpo_comment,
    result: row.result,
    error: row.error,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    decidedAt: row.decided_at?.toISOString() ?? null,
    readyAt: row.ready_at?.toISOString() ?? null,
    finishedAt: row.finished_at?.toISOString() ?? null,
    downloadUntil: row.status === 'download_ready' && row.ready_at ? new Date(row.ready_at.getTime() + exportFileDays * 86_400_000).toISOString() : null,
  };
}

const messageAad = (tenantId: string) => `privacy-request-message:${tenantId}`;
const exportKey = (ctx: AppContext, tenantId: string) => ctx.secrets.deriveKey(`privacy-export:${tenantId}`);

async function tenantSettings(db: Kysely<DB>, tenantId: string) {
  const row = await db.selectFrom('tenants').selectAll().where('id', '=', tenantId).executeTakeFirstOrThrow();
  return toTenant(row);
}

const notFound = (ruleIds: string[] = []) => new ProblemError(404, 'not-found', 'Diesen Antrag gibt es hier nicht.', { ruleIds });

/** Moves a locked request one step and writes the step to the admin-action log with the request id. */
async function step(
  ctx: AppContext,
  trx: Kysely<DB>,
  row: RequestRow,
  event: RequestEvent,
  actor: Actor,
  changes: Partial<{ dpo_comment: string | null; result: string; error: string | null; decided_at: Date; ready_at: Date; message_sealed: null }> = {},
  details: Record<string, unknown> = {},
): Promise<RequestRow> {
  const next = transition(row.status as RequestStatus, event, row.type as RequestType);
  if (!next.ok) throw new ProblemError(409, 'conflict', next.reason, { ruleIds: EVENT_RULES[event] });
  const now = ctx.clock.now();
  const final = FINAL_STATUSES.includes(next.to);
  const updated = await trx
    .updateTable('privacy_requests')
    .set({
      ...changes,
      status: next.to,
      updated_at: now,
      // Finished: free text goes, the record (type, status, ids) stays for accountability.
      ...(final ? { finished_at: now, message_sealed: null } : {}),
    })
    .where('id', '=', row.id)
    .returningAll()
    .executeTakeFirstOrThrow();
  await ctx.audit.admin(trx, {
    tenantId: row.tenant_id,
    actor: actorName(actor),
    action: `privacy.request.${event}`,
    objectType: 'privacy_request',
    objectId: row.id,
    ruleIds: EVENT_RULES[event],
    details: { type: row.type, from: row.status, to: next.to, ...details },
  });
  return updated;
}

async function lockRequest(trx: Kysely<DB>, tenantId: string, id: string): Promise<RequestRow> {
  const row = await trx.selectFrom('privacy_requests').selectAll().where('id', '=', id).where('tenant_id', '=', tenantId).forUpdate().executeTakeFirst();
  if (!row) throw notFound();
  return row;
}

export interface FileInput {
  userId: string;
  type: RequestType;
  categories?: string[];
  message?: string;
}

/**
 * Files a request (DSR-01, DSR-03, DSR-04): the subject for themself, the LMS
 * or a DPO for a user of the same tenant (ACC-04). It goes to the DPO at once;
 * an export is approved at once where the tenant has chosen so (DSR-05), and
 * then carried out.
 */
export async function fileRequest(ctx: AppContext, actor: Actor, input: FileInput): Promise<RequestView> {
  if (actor.kind === 'system') throw new Error('the system files no requests');
  if (actor.kind === 'subject' && actor.userId !== input.userId) throw notFound(['DSR-05']);
  if (actor.kind === 'token' && !actor.scopes.some((s) => s === 'lms' || s === 'dpo')) {
    throw new ProblemError(403, 'forbidden', 'Anträge stellen nur die Person selbst, das LMS (lms) oder die/der Datenschutzbeauftragte (dpo).', { ruleIds: ['DSR-05'] });
  }
  const message = input.message?.trim() ?? '';
  if ((input.type === 'rectification' || input.type === 'other') && !message) {
    throw new ProblemError(422, 'validation-failed', 'Bitte beschreiben Sie, was berichtigt werden soll bzw. was Sie fragen möchten.', { extra: { errors: [{ in: 'body', field: 'message', message: 'erforderlich', code: 'required' }] } });
  }
  if (message.length > MESSAGE_MAX) throw new ProblemError(422, 'validation-failed', `Höchstens ${MESSAGE_MAX} Zeichen.`, { extra: { errors: [{ in: 'body', field: 'message', message: 'zu lang', code: 'too_big' }] } });
  const categories = input.type === 'restriction' ? validCategories(ctx, input.categories?.length ? input.categories : ['*']) : [];

  const row = await ctx.db.transaction().execute(async (trx) => {
    const user = await trx.selectFrom('users').select('id').where('id', '=', input.userId).where('tenant_id', '=', actor.tenantId).where('deleted_at', 'is', null).executeTakeFirst();
    if (!user) throw new ProblemError(404, 'not-found', 'Diese Person ist bei dieser Schule nicht bekannt.', { ruleIds: ['ACC-04'] });
    const open = await trx
      .selectFrom('privacy_requests')
      .select('id')
      .where('tenant_id', '=', actor.tenantId)
      .where('user_id', '=', input.userId)
      .where('type', '=', input.type)
      .where('status', 'in', [...OPEN_STATUSES])
      .executeTakeFirst();
    if (open) throw new ProblemError(409, 'conflict', 'Es gibt schon einen offenen Antrag dieser Art; bitte warten Sie dessen Bearbeitung ab.', { ruleIds: ['DSR-05'], extra: { requestId: open.id } });
    const now = ctx.clock.now();
    const created = await trx
      .insertInto('privacy_requests')
      .values({
        tenant_id: actor.tenantId,
        user_id: input.userId,
        type: input.type,
        status: 'pending',
        filed_via: actor.kind === 'subject' ? 'self' : isDpo(actor) ? 'dpo' : 'lms',
        categories,
        message_sealed: null,
        created_at: now,
        updated_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    if (message) {
      await trx.updateTable('privacy_requests').set({ message_sealed: ctx.secrets.seal(message, `${messageAad(actor.tenantId)}:${created.id}`) }).where('id', '=', created.id).execute();
    }
    await ctx.audit.admin(trx, {
      tenantId: actor.tenantId,
      actor: actorName(actor),
      action: 'privacy.request.file',
      objectType: 'privacy_request',
      objectId: created.id,
      ruleIds: input.type === 'export' ? ['DSR-01'] : input.type === 'objection' ? ['DSR-04'] : ['DSR-03'],
      details: { type: input.type, filedVia: created.filed_via },
    });
    let current = await step(ctx, trx, created, 'submit', { kind: 'system', tenantId: actor.tenantId });
    const tenant = await tenantSettings(trx, actor.tenantId);
    if (input.type === 'export' && tenant.settings.privacy.autoApproveExports) {
      current = await step(ctx, trx, current, 'approve', { kind: 'system', tenantId: actor.tenantId }, { decided_at: now }, { auto: true });
    }
    return current;
  }).catch(openConflict);
  if (row.status === 'approved') return processRequest(ctx, row.tenant_id, row.id);
  return present(row);
}

/** Two filings at once: the partial unique index keeps one open request per person and type. */
function openConflict(error: unknown): never {
  if ((error as { code?: string }).code === '23505') throw new ProblemError(409, 'conflict', 'Es gibt schon einen offenen Antrag dieser Art; bitte warten Sie dessen Bearbeitung ab.', { ruleIds: ['DSR-05'] });
  throw error;
}

function validCategories(ctx: AppContext, categories: string[]): string[] {
  const known = new Set(ctx.privacy.describe().map((c) => c.category));
  const modules = new Set([...known].map((c) => c.split('.')[0]!));
  const bad = categories.filter((c) => c !== '*' && !known.has(c) && !modules.has(c));
  if (bad.length) {
    throw new ProblemError(422, 'validation-failed', `Unbekannte Datenkategorie: ${bad.join(', ')}. Das Verzeichnis der Verarbeitungstätigkeiten nennt die Kategorien.`, {
      extra: { errors: [{ in: 'body', field: 'categories', message: 'unbekannt', code: 'invalid_value' }] },
    });
  }
  return [...new Set(categories)];
}

/** DSR-05: only a DPO of the request's own tenant approves or rejects, with a comment the requester sees. */
export async function decideRequest(ctx: AppContext, actor: Actor, id: string, decision: 'approve' | 'reject', comment: string | undefined): Promise<RequestView> {
  if (!isDpo(actor)) throw new ProblemError(403, 'forbidden', 'Nur die/der Datenschutzbeauftragte der Schule gibt Anträge frei oder lehnt sie ab.', { ruleIds: ['DSR-05'] });
  const text = comment?.trim() || null;
  if (decision === 'reject' && !text) {
    throw new ProblemError(422, 'validation-failed', 'Bitte begründen Sie die Ablehnung; die antragstellende Person sieht den Kommentar.', { ruleIds: ['DSR-05'], extra: { errors: [{ in: 'body', field: 'comment', message: 'erforderlich', code: 'required' }] } });
  }
  const row = await ctx.db.transaction().execute(async (trx) => {
    const locked = await lockRequest(trx, actor.tenantId, id);
    return step(ctx, trx, locked, decision, actor, { dpo_comment: text, decided_at: ctx.clock.now() });
  });
  if (row.status === 'approved') return processRequest(ctx, row.tenant_id, row.id);
  return present(row);
}

/** The requester (own request) or a DPO withdraws a request that has not been carried out yet. */
export async function cancelRequest(ctx: AppContext, actor: Actor, id: string): Promise<RequestView> {
  const row = await ctx.db.transaction().execute(async (trx) => {
    const locked = await lockRequest(trx, actor.tenantId, id);
    if (actor.kind === 'subject' && locked.user_id !== actor.userId) throw notFound(['DSR-05']);
    return step(ctx, trx, locked, 'cancel', actor);
  });
  return present(row);
}

export async function getRequest(db: Kysely<DB>, tenantId: string, id: string): Promise<RequestRow> {
  const row = await db.selectFrom('privacy_requests').selectAll().where('id', '=', id).where('tenant_id', '=', tenantId).executeTakeFirst();
  if (!row) throw notFound();
  return row;
}

export async function listRequests(db: Kysely<DB>, tenantId: string, filter: { userId?: string; status?: RequestStatus[] } = {}): Promise<RequestRow[]> {
  let query = db.selectFrom('privacy_requests').selectAll().where('tenant_id', '=', tenantId).orderBy('created_at', 'desc').orderBy('id').limit(500);
  if (filter.userId) query = query.where('user_id', '=', filter.userId);
  if (filter.status?.length) query = query.where('status', 'in', filter.status);
  return query.execute();
}

/** The DPO reads the free text of an open rectification or question. */
export async function readMessage(ctx: AppContext, actor: Actor, id: string): Promise<string | null> {
  if (!isDpo(actor)) throw new ProblemError(403, 'forbidden', 'Nur die/der Datenschutzbeauftragte liest den Text des Antrags.', { ruleIds: ['DSR-05'] });
  const row = await getRequest(ctx.db, actor.tenantId, id);
  return row.message_sealed ? ctx.secrets.openText(row.message_sealed, `${messageAad(row.tenant_id)}:${row.id}`) : null;
}

/**
 * Carries out an approved request (or re-runs one left in `processing` by a
 * failure). A failure leaves the request `processing` with the error; nothing
 * half-done stays behind, because each kind of work is one transaction.
 */
export async function processRequest(ctx: AppContext, tenantId: string, id: string, actor: Actor = { kind: 'system', tenantId }): Promise<RequestView> {
  const started = await ctx.db.transaction().execute(async (trx) => {
    const locked = await lockRequest(trx, tenantId, id);
    if (locked.status === 'processing') return locked; // a re-run: no new step in the log until it ends
    return step(ctx, trx, locked, 'start', actor);
  });
  try {
    const isolation = started.type === 'export' ? 'repeatable read' : 'read committed';
    const done = await ctx.db
      .transaction()
      .setIsolationLevel(isolation)
      .execute(async (trx) => {
        // Several instances may share the database: whoever holds the lock does the work.
        const { rows } = await sql<{ ok: boolean }>`select pg_try_advisory_xact_lock(hashtext(${`${ctx.database.lockNamespace}:privacy-request:${id}`})) as ok`.execute(trx);
        if (!rows[0]?.ok) throw new ProblemError(409, 'conflict', 'Dieser Antrag wird gerade schon bearbeitet.');
        const row = await lockRequest(trx, tenantId, id);
        if (row.status !== 'processing') return row;
        return carryOut(ctx, trx, row, actor);
      });
    return present(done, (await tenantSettings(ctx.db, tenantId)).settings.retention.exportFileDays);
  } catch (error) {
    if (error instanceof ProblemError && error.status === 409) throw error;
    const code = errorText(error);
    ctx.logger.error({ requestId: id, err: code }, 'privacy request failed');
    const row = await ctx.db.transaction().execute(async (trx) => {
      const updated = await trx.updateTable('privacy_requests').set({ error: code, updated_at: ctx.clock.now() }).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
      await ctx.audit.admin(trx, { tenantId, actor: actorName(actor), action: 'privacy.request.failed', objectType: 'privacy_request', objectId: id, ruleIds: ['DSR-03'], details: { type: updated.type, error: code } });
      return updated;
    });
    return present(row);
  }
}

function errorText(error: unknown): string {
  const e = error as { code?: string; message?: string; name?: string };
  return [e.code, e.message ?? e.name].filter(Boolean).join(': ').slice(0, 300) || 'unknown';
}

async function carryOut(ctx: AppContext, trx: Kysely<DB>, row: RequestRow, actor: Actor): Promise<RequestRow> {
  const subject = { tenantId: row.tenant_id, userId: row.user_id };
  switch (row.type as RequestType) {
    case 'export': {
      const tenant = await tenantSettings(trx, row.tenant_id);
      await trx.deleteFrom('privacy_export_chunks').where('request_id', '=', row.id).execute();
      const summary = await buildArchive(
        trx,
        ctx.privacy,
        subject,
        { requestId: row.id, userId: row.user_id, tenantName: tenant.name, generatedAt: ctx.clock.now() },
        async (seq, data) => {
          await trx.insertInto('privacy_export_chunks').values({ request_id: row.id, seq, data }).execute();
        },
        exportKey(ctx, row.tenant_id),
      );
      const result = { counts: summary.counts, bytes: summary.bytes };
      return step(ctx, trx, row, 'ready', actor, { ready_at: ctx.clock.now(), error: null, result: JSON.stringify(result) }, { bytes: summary.bytes, rows: Object.values(summary.counts).reduce((a, b) => a + b, 0) });
    }
    case 'erasure': {
      const results = mergeResults(await eraseSubject(ctx.privacy, trx, subject));
      const deleted = results.reduce((a, r) => a + r.deleted, 0);
      const kept = results.reduce((a, r) => a + r.kept, 0);
      return step(ctx, trx, row, 'complete', actor, { error: null, result: JSON.stringify({ categories: results }) }, { deleted, kept });
    }
    case 'restriction': {
      const now = ctx.clock.now();
      const existing = await trx.selectFrom('privacy_restrictions').select('category').where('tenant_id', '=', row.tenant_id).where('user_id', '=', row.user_id).where('lifted_at', 'is', null).execute();
      const fresh = row.categories.filter((c) => !existing.some((e) => e.category === c));
      if (fresh.length) {
        await trx.insertInto('privacy_restrictions').values(fresh.map((category) => ({ tenant_id: row.tenant_id, user_id: row.user_id, category, since: now, request_id: row.id }))).execute();
      }
      return step(ctx, trx, row, 'complete', actor, { error: null, result: JSON.stringify({ restricted: row.categories, ruleIds: ['DSR-03'] }) });
    }
    case 'objection': {
      await recordObjection(trx, ctx.clock, { tenantId: row.tenant_id, userId: row.user_id, source: 'dsr' });
      return step(ctx, trx, row, 'complete', actor, { error: null, result: JSON.stringify({ objection: 'video', effective: 'next-join', ruleIds: ['DSR-04', 'VC-06'] }) });
    }
    case 'rectification':
    case 'other':
      // The DPO handled it (the data mostly comes from the LMS); approving closes it with the comment.
      return step(ctx, trx, row, 'complete', actor, { error: null });
  }
}

/** One line per category: deleted and kept, with the rule that keeps data. */
export function mergeResults(results: CategoryResult[]): CategoryResult[] {
  const merged = new Map<string, CategoryResult>();
  for (const r of results) {
    const m = merged.get(r.category) ?? { category: r.category, deleted: 0, kept: 0 };
    m.deleted += r.deleted;
    m.kept += r.kept;
    if (r.keptBecause) m.keptBecause = m.keptBecause && m.keptBecause !== r.keptBecause ? `${m.keptBecause}, ${r.keptBecause}` : r.keptBecause;
    merged.set(r.category, m);
  }
  return [...merged.values()];
}

/** Lifts an Art. 18 restriction (the DPO decides); modules may change and show the data again. */
export async function liftRestriction(ctx: AppContext, actor: Actor, id: string): Promise<number> {
  if (!isDpo(actor)) throw new ProblemError(403, 'forbidden', 'Nur die/der Datenschutzbeauftragte hebt eine Einschränkung auf.', { ruleIds: ['DSR-03'] });
  return ctx.db.transaction().execute(async (trx) => {
    const row = await lockRequest(trx, actor.tenantId, id);
    if (row.type !== 'restriction') throw new ProblemError(409, 'conflict', 'Dieser Antrag ist keine Einschränkung der Verarbeitung.', { ruleIds: ['DSR-03'] });
    const lifted = await trx.updateTable('privacy_restrictions').set({ lifted_at: ctx.clock.now() }).where('request_id', '=', id).where('tenant_id', '=', actor.tenantId).where('lifted_at', 'is', null).executeTakeFirst();
    await ctx.audit.admin(trx, { tenantId: actor.tenantId, actor: actorName(actor), action: 'privacy.restriction.lift', objectType: 'privacy_request', objectId: id, ruleIds: ['DSR-03'], details: { lifted: Number(lifted.numUpdatedRows) } });
    return Number(lifted.numUpdatedRows);
  });
}

/**
 * DSR-05: a single-use link, valid for minutes, for the requester's own session
 * or the DPO who asked for it. The archive itself stays until RET-10.
 */
export async function createDownloadLink(ctx: AppContext, actor: Actor, id: string): Promise<{ token: string; expiresAt: Date }> {
  if (actor.kind === 'system' || (actor.kind === 'token' && !isDpo(actor))) {
    throw new ProblemError(403, 'forbidden', 'Das Archiv erhält nur die antragstellende Person oder die/der Datenschutzbeauftragte.', { ruleIds: ['DSR-05'] });
  }
  return ctx.db.transaction().execute(async (trx) => {
    const row = await lockRequest(trx, actor.tenantId, id);
    if (actor.kind === 'subject' && row.user_id !== actor.userId) throw notFound(['DSR-05']);
    if (row.status !== 'download_ready') {
      throw new ProblemError(row.status === 'expired' ? 410 : 409, row.status === 'expired' ? 'gone' : 'conflict', row.status === 'expired' ? 'Das Archiv wurde nach Ablauf der Frist gelöscht (RET-10). Sie können eine neue Auskunft beantragen.' : 'Das Archiv ist noch nicht fertig.', { ruleIds: row.status === 'expired' ? ['RET-10'] : ['DSR-05'] });
    }
    const token = newToken('sbd');
    const now = ctx.clock.now();
    const expiresAt = new Date(now.getTime() + DOWNLOAD_LINK_TTL_MS);
    await trx.insertInto('privacy_download_links').values({ token_hash: hashToken(token), request_id: id, tenant_id: actor.tenantId, issued_to: linkHolder(actor), created_at: now, expires_at: expiresAt }).execute();
    await ctx.audit.admin(trx, { tenantId: actor.tenantId, actor: actorName(actor), action: 'privacy.download.link', objectType: 'privacy_request', objectId: id, ruleIds: ['DSR-05'] });
    return { token, expiresAt };
  });
}

/**
 * Uses a download link (once): it must be for this tenant and this caller, unused
 * and unexpired, and the archive still there. Every download is audited.
 * Returns the archive's bytes as they are opened, chunk by chunk.
 */
export async function useDownloadLink(ctx: AppContext, actor: Actor, token: string): Promise<{ requestId: string; chunks: AsyncGenerator<Buffer> }> {
  const requestId = await ctx.db.transaction().execute(async (trx) => {
    const link = await trx.selectFrom('privacy_download_links').selectAll().where('token_hash', '=', hashToken(token)).forUpdate().executeTakeFirst();
    if (!link || link.tenant_id !== actor.tenantId || link.issued_to !== linkHolder(actor)) throw new ProblemError(404, 'not-found', 'Dieser Download-Link ist unbekannt.', { ruleIds: ['DSR-05'] });
    const now = ctx.clock.now();
    if (link.used_at) throw new ProblemError(410, 'gone', 'Dieser Download-Link wurde schon benutzt; bitte einen neuen anfordern (DSR-05).', { ruleIds: ['DSR-05'] });
    if (link.expires_at <= now) throw new ProblemError(410, 'gone', 'Dieser Download-Link ist abgelaufen; bitte einen neuen anfordern (DSR-05).', { ruleIds: ['DSR-05'] });
    const request = await lockRequest(trx, link.tenant_id, link.request_id);
    if (request.status !== 'download_ready') throw new ProblemError(410, 'gone', 'Das Archiv ist nicht mehr vorhanden (RET-10).', { ruleIds: ['RET-10'] });
    await trx.updateTable('privacy_download_links').set({ used_at: now }).where('token_hash', '=', link.token_hash).execute();
    await ctx.audit.admin(trx, { tenantId: link.tenant_id, actor: actorName(actor), action: 'privacy.download', objectType: 'privacy_request', objectId: link.request_id, ruleIds: ['DSR-05'] });
    return link.request_id;
  });
  return { requestId, chunks: openArchive(ctx.db, requestId, exportKey(ctx, actor.tenantId)) };
}

/**
 * For a scheduled job: carries out approved requests that nobody finished (the
 * instance that approved them stopped, or a re-run is due). Requests another
 * instance is working on are skipped (advisory lock). Returns how many ended.
 */
export async function processOpenRequests(ctx: AppContext, options: { olderThanMs?: number } = {}): Promise<{ done: number; failed: number }> {
  const before = new Date(ctx.clock.now().getTime() - (options.olderThanMs ?? 5 * MINUTE));
  const due = await ctx.db.selectFrom('privacy_requests').select(['id', 'tenant_id']).where('status', 'in', ['approved', 'processing']).where('updated_at', '<', before).orderBy('updated_at').limit(100).execute();
  let done = 0;
  let failed = 0;
  for (const row of due) {
    try {
      const view = await processRequest(ctx, row.tenant_id, row.id);
      if (view.status === 'processing') failed++;
      else done++;
    } catch (error) {
      if (!(error instanceof ProblemError && error.status === 409)) throw error;
    }
  }
  return { done, failed };
}
