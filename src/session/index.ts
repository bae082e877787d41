import { randomBytes, timingSafeEqual } from 'node:crypto';
import { html, type Raw } from '../web/html.js';
import type { Request, Response } from 'express';
import type { Kysely } from 'kysely';
import { hashToken } from '../crypto/secrets.js';
import { readCookie } from '../http/headers.js';
import type { DB } from '../db/schema.js';
import type { AppRole } from '../identity/roles.js';
import { HOUR, MINUTE, type Clock } from '../shared/clock.js';

export const SESSION_COOKIE = 'sb_session';
export const IDLE_TIMEOUT_MS = 30 * MINUTE;
export const ABSOLUTE_TIMEOUT_MS = 10 * HOUR;

/** A browser session started by a verified LTI launch or IServ login. */
export interface Session {
  idHash: string;
  tenantId: string;
  userId: string;
  contextId: string | null;
  roles: AppRole[];
  /** Per-session token for forms (cookies are SameSite=None inside Moodle's iframe). */
  csrf: string;
  data: Record<string, unknown>;
}

export interface NewSession {
  tenantId: string;
  userId: string;
  contextId: string | null;
  roles: AppRole[];
  data?: Record<string, unknown>;
}

/** A new session's secret token and the values of its row (for callers that insert it within a larger statement). */
export function newSessionRecord(clock: Clock, s: NewSession): { token: string; idHash: string; csrf: string; data: Record<string, unknown>; createdAt: Date; expiresAt: Date } {
  const token = randomBytes(32).toString('base64url');
  const csrf = randomBytes(24).toString('base64url');
  const now = clock.now();
  return { token, idHash: hashToken(token), csrf, data: { ...(s.data ?? {}), csrf }, createdAt: now, expiresAt: new Date(now.getTime() + ABSOLUTE_TIMEOUT_MS) };
}

export async function createSession(db: Kysely<DB>, clock: Clock, s: NewSession): Promise<{ token: string; session: Session }> {
  const r = newSessionRecord(clock, s);
  await db
    .insertInto('sessions')
    .values({
      id_hash: r.idHash,
      tenant_id: s.tenantId,
      user_id: s.userId,
      context_id: s.contextId,
      roles: s.roles,
      data: JSON.stringify(r.data),
      created_at: r.createdAt,
      last_seen_at: r.createdAt,
      expires_at: r.expiresAt,
    })
    .execute();
  return { token: r.token, session: { idHash: r.idHash, tenantId: s.tenantId, userId: s.userId, contextId: s.contextId, roles: s.roles, csrf: r.csrf, data: r.data } };
}

/** SEC-03: a session cookie only (no Max-Age/Expires), HttpOnly, Secure, SameSite=None, partitioned for iframes. */
export function setSessionCookie(res: Response, token: string): void {
  res.append('Set-Cookie', `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; Secure; SameSite=None; Partitioned`);
}

export function clearSessionCookie(res: Response): void {
  res.append('Set-Cookie', `${SESSION_COOKIE}=; Path=/; HttpOnly; Secure; SameSite=None; Partitioned; Max-Age=0`);
}

export function sessionToken(req: Request): string | null {
  return readCookie(req, SESSION_COOKIE);
}

/** Sessions already loaded for a request in flight (framing middleware and page both ask). */
const loaded = new WeakMap<Request, { token: string; session: Promise<Session | null> }>();

/**
 * The live session behind the request's cookie, touching its idle timer; null when absent or
 * timed out. Within one express request (one that has its response attached) the session is
 * read once: later calls for the same cookie get the same answer.
 */
export function loadSession(db: Kysely<DB>, clock: Clock, req: Request): Promise<Session | null> {
  const token = sessionToken(req);
  if (!token) return Promise.resolve(null);
  if (!req.res) return readSession(db, clock, token);
  const hit = loaded.get(req);
  if (hit && hit.token === token) return hit.session;
  const session = readSession(db, clock, token);
  loaded.set(req, { token, session });
  session.catch(() => loaded.delete(req));
  return session;
}

async function readSession(db: Kysely<DB>, clock: Clock, token: string): Promise<Session | null> {
  const now = clock.now();
  const row = await db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .selectAll('sessions')
    .where('sessions.id_hash', '=', hashToken(token))
    .where('users.deleted_at', 'is', null)
    .executeTakeFirst();
  if (!row) return null;
  if (row.expires_at <= now || now.getTime() - row.last_seen_at.getTime() > IDLE_TIMEOUT_MS) {
    await db.deleteFrom('sessions').where('id_hash', '=', row.id_hash).execute();
    return null;
  }
  if (now.getTime() - row.last_seen_at.getTime() > MINUTE) {
    await db.updateTable('sessions').set({ last_seen_at: now }).where('id_hash', '=', row.id_hash).execute();
  }
  const data = row.data as Record<string, unknown>;
  return {
    idHash: row.id_hash,
    tenantId: row.tenant_id,
    userId: row.user_id,
    contextId: row.context_id,
    roles: row.roles as AppRole[],
    csrf: String(data.csrf ?? ''),
    data,
  };
}

/** The hidden form field that carries the session's CSRF token (cookies are SameSite=None in Moodle's iframe). */
export const csrfField = (session: Session): Raw => html`<input type="hidden" name="csrf" value="${session.csrf}">`;

/** True when a posted form carries this session's CSRF token; compared in constant time. */
export function csrfMatches(session: Session, body: unknown): boolean {
  const given = (body as Record<string, unknown> | undefined)?.csrf;
  if (typeof given !== 'string' || !session.csrf) return false;
  const a = Buffer.from(session.csrf);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

export async function endSession(db: Kysely<DB>, session: Session): Promise<void> {
  await db.deleteFrom('sessions').where('id_hash', '=', session.idHash).execute();
}

/** Removes expired and idle sessions (called by the cleanup job). */
export async function purgeSessions(db: Kysely<DB>, clock: Clock): Promise<number> {
  const now = clock.now();
  const result = await db
    .deleteFrom('sessions')
    .where((eb) => eb.or([eb('expires_at', '<=', now), eb('last_seen_at', '<', new Date(now.getTime() - IDLE_TIMEOUT_MS))]))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
