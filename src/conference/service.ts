/**
 * Room lifecycle (idle → running → ended) on BigBlueButton and Jitsi. Every
 * action is decided by `decide()` first and logged with its rule ids and
 * pseudonymous ids (RET-01); the backend call then carries the obligations.
 * Each start gets a new random meeting id (and password where needed); the end
 * destroys meeting id, password and share links (VC-10, VC-15, RET-04).
 */
import { randomBytes, randomUUID, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import type { Kysely } from 'kysely';
import { loadBackend } from '../backends/store.js';
import type { Backend } from '../backends/schema.js';
import { hasAcceptedUsageRules, hasConsent, hasObjection } from '../consent/index.js';
import type { AppContext } from '../context.js';
import { hashToken } from '../crypto/secrets.js';
import type { DB } from '../db/schema.js';
import { rolesInContext, type AppRole } from '../identity/index.js';
import { ProblemError } from '../shared/errors.js';
import { HOUR } from '../shared/clock.js';
import { findById } from '../tenants/store.js';
import type { TenantSettings } from '../tenants/settings.js';
import { BbbClient } from './bbb.js';
import { jitsiToken, newJitsiRoomName } from './jitsi.js';
import { decide, type Decision, type Obligations, type PolicyActor, type PolicyFacts, type PolicyRoom, type RequestedCategory, type RoomAction, type RoomSettings } from './policy.js';
import { insertRoom, type RoomRow } from './store.js';

const scrypt = promisify(scryptCb) as (password: string, salt: Buffer, keylen: number) => Promise<Buffer>;

/** SEC-01: generated passwords have ≥ 12 characters (here 16, unambiguous alphabet). */
export function newPassword(length = 16): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789';
  const bytes = randomBytes(length * 2);
  let out = '';
  for (const b of bytes) {
    if (b >= 256 - (256 % alphabet.length)) continue; // no modulo bias
    out += alphabet[b % alphabet.length];
    if (out.length === length) break;
  }
  return out.length === length ? out : newPassword(length);
}

/** SEC-01: passwords are stored hashed (scrypt with salt). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, 32);
  return `scrypt$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [kind, saltText, keyText] = stored.split('$');
  if (kind !== 'scrypt' || !saltText || !keyText) return false;
  const key = await scrypt(password, Buffer.from(saltText, 'base64url'), 32);
  const expected = Buffer.from(keyText, 'base64url');
  return key.length === expected.length && timingSafeEqual(key, expected);
}

interface MeetingSecrets {
  createTime?: string;
  password?: string;
  moderatorPassword?: string;
}

const meetingPlace = (room: { tenant_id: string; id: string }, meetingId: string) => `meeting:${room.tenant_id}:${room.id}:${meetingId}`;

export function openMeeting(ctx: AppContext, room: RoomRow): MeetingSecrets {
  if (!room.meeting_id || !room.meeting_sealed) return {};
  return JSON.parse(ctx.secrets.openText(room.meeting_sealed, meetingPlace(room, room.meeting_id))) as MeetingSecrets;
}

export function policyRoom(room: RoomRow, backendKind: 'bbb' | 'jitsi'): PolicyRoom {
  return {
    category: room.category as RequestedCategory,
    state: room.state as PolicyRoom['state'],
    purpose: room.purpose,
    settings: (room.settings ?? {}) as RoomSettings,
    backendKind,
  };
}

export async function tenantSettings(ctx: AppContext, tenantId: string): Promise<TenantSettings> {
  const tenant = await findById(ctx.db, tenantId);
  if (!tenant) throw new ProblemError(404, 'not-found', 'Schule nicht gefunden.');
  return tenant.settings;
}

export async function roomBackend(ctx: AppContext, room: { tenant_id: string; backend: string }): Promise<Backend> {
  const backend = await loadBackend(ctx.db, ctx.secrets, room.tenant_id, room.backend);
  if (!backend) throw new ProblemError(502, 'backend-failed', `Das Konferenzsystem „${room.backend}“ ist für diese Schule nicht eingerichtet.`, { extra: { backend: room.backend } });
  return backend;
}

export function bbbClient(backend: Backend & { kind: 'bbb' }): BbbClient {
  return new BbbClient({ name: backend.name, baseUrl: backend.baseUrl, secret: backend.secret, checksumAlgorithm: backend.checksumAlgorithm });
}

/** The person acting, as the bridge verified them: roles from memberships, never from the request. */
export interface Acting {
  userId: string;
  roles: AppRole[];
}

export async function actingIn(ctx: AppContext, tenantId: string, userId: string, contextId: string): Promise<Acting> {
  return { userId, roles: await rolesInContext(ctx.db, tenantId, userId, contextId) };
}

const actorOf = (a: Acting): PolicyActor => ({ kind: 'member', userId: a.userId, roles: a.roles });

/** Decides, logs (RET-01: rule ids and pseudonymous ids only) and throws a problem on deny. */
export function enforce(ctx: AppContext, room: { id: string | null; tenant_id: string; context_id: string }, actorId: string | null, action: RoomAction, d: Decision): Obligations {
  ctx.audit.activity({
    tenantId: room.tenant_id,
    actorId,
    contextId: room.context_id,
    action: `room.${action}`,
    objectType: 'room',
    ...(room.id ? { objectId: room.id } : {}),
    outcome: d.effect,
    ruleIds: d.rules,
  });
  if (d.effect === 'deny' || !d.obligations) {
    throw new ProblemError(403, 'policy-denied', d.reason.de, { ruleIds: d.rules, extra: { reasonEn: d.reason.en, ...(d.waiting ? { waiting: true } : {}) } });
  }
  return d.obligations;
}

export async function joinFacts(ctx: AppContext, tenantId: string, userId: string): Promise<PolicyFacts> {
  const [videoConsent, peerConsent, objection, usageRulesAccepted] = await Promise.all([
    hasConsent(ctx.db, tenantId, userId, 'video'),
    hasConsent(ctx.db, tenantId, userId, 'peer'),
    hasObjection(ctx.db, tenantId, userId),
    hasAcceptedUsageRules(ctx.db, tenantId, userId),
  ]);
  return { videoConsent, peerConsent, objection, usageRulesAccepted };
}

async function lockRoom(trx: Kysely<DB>, room: RoomRow): Promise<RoomRow> {
  const row = await trx.selectFrom('rooms').selectAll().where('id', '=', room.id).where('tenant_id', '=', room.tenant_id).forUpdate().executeTakeFirst();
  if (!row || row.deleted_at) throw new ProblemError(404, 'not-found', 'Raum nicht gefunden.');
  return row;
}

/** Destroys the current meeting's id, secrets and share links (VC-10, VC-15, RET-04). Inside a transaction. */
async function destroyMeeting(trx: Kysely<DB>, room: RoomRow, now: Date): Promise<void> {
  await trx.updateTable('rooms').set({ state: 'ended', meeting_id: null, meeting_sealed: null, ended_at: now, updated_at: now }).where('id', '=', room.id).execute();
  await trx.deleteFrom('share_links').where('room_id', '=', room.id).execute();
}

/*
 * Start, end and "continue in a fresh room" call the conference backend, which may
 * take up to its timeout. No transaction (and so no row lock, no pooled connection,
 * and on PGlite not the process's only connection) is held across that call:
 *   1. claim: a short transaction locks the row, checks its state and records the
 *      operation (`op`, its token `op_meeting_id`, a lease `op_until`);
 *   2. the backend call, with no transaction open;
 *   3. commit: a second short transaction applies the outcome only if the claim is
 *      still ours (compare-and-set on op + token), and clears it. On a backend
 *      failure the claim is released, so the room can be started again.
 * A second operation on a room while one is in flight gets a 409 problem; a claim
 * whose lease ran out (the process died mid-call) may be taken over.
 */
type RoomOp = 'start' | 'end' | 'fresh';

/** Longer than the backend calls one operation makes (two calls of at most 5 s), short enough to recover from a crash. */
export const ROOM_OP_LEASE_MS = 60_000;

const roomBusy = () =>
  new ProblemError(409, 'conflict', 'Der Raum wird gerade gestartet oder beendet. Bitte gleich noch einmal versuchen.', { extra: { reasonEn: 'The room is being started or ended right now. Please try again in a moment.' } });

/**
 * Claims the room for `op` in one short transaction. `wanted` decides on the locked
 * row whether there is anything to do (null: nothing claimed); `token` names the claim.
 */
async function claimRoom(ctx: AppContext, room: RoomRow, op: RoomOp, wanted: (locked: RoomRow) => boolean, token: (locked: RoomRow) => string): Promise<{ locked: RoomRow; token: string } | null> {
  return ctx.db.transaction().execute(async (trx) => {
    const locked = await lockRoom(trx, room);
    const now = ctx.clock.now();
    if (locked.op && locked.op_until && locked.op_until > now) throw roomBusy();
    if (!wanted(locked)) return null;
    const claim = token(locked);
    await trx
      .updateTable('rooms')
      .set({ op, op_meeting_id: claim, op_until: new Date(now.getTime() + ROOM_OP_LEASE_MS) })
      .where('id', '=', room.id)
      .execute();
    return { locked, token: claim };
  });
}

/** Clears our claim if it is still ours (inside the commit transaction); false when it was lost. */
async function finishClaim(trx: Kysely<DB>, room: RoomRow, op: RoomOp, token: string): Promise<boolean> {
  const r = await trx
    .updateTable('rooms')
    .set({ op: null, op_meeting_id: null, op_until: null })
    .where('id', '=', room.id)
    .where('deleted_at', 'is', null)
    .where('op', '=', op)
    .where('op_meeting_id', '=', token)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** After a backend failure: gives the room back (one statement, no transaction needed); the original error is what counts. */
async function releaseClaim(ctx: AppContext, room: RoomRow, op: RoomOp, token: string): Promise<void> {
  try {
    await ctx.db.updateTable('rooms').set({ op: null, op_meeting_id: null, op_until: null }).where('id', '=', room.id).where('op', '=', op).where('op_meeting_id', '=', token).execute();
  } catch {
    // The lease runs out on its own (ROOM_OP_LEASE_MS).
  }
}

interface FreshMeeting {
  meetingId: string;
  secrets: MeetingSecrets;
}

/** A new random meeting id (VC-12: no course names) and, where required, fresh passwords (VC-04, SEC-01). */
function newMeeting(backend: Backend, o: Obligations): FreshMeeting {
  const secrets: MeetingSecrets = {};
  if (o.password) {
    secrets.password = newPassword();
    secrets.moderatorPassword = newPassword();
  }
  return { meetingId: backend.kind === 'bbb' ? randomBytes(20).toString('hex') : newJitsiRoomName(), secrets };
}

/** Opens the meeting on the backend (no transaction open). Jitsi rooms exist once a token names them. */
async function createOnBackend(backend: Backend, room: RoomRow, m: FreshMeeting, o: Obligations): Promise<void> {
  if (backend.kind !== 'bbb') return;
  const created = await bbbClient(backend).create({
    meetingId: m.meetingId,
    name: room.title,
    roomId: room.id,
    obligations: o,
    ...(m.secrets.password ? { attendeePassword: m.secrets.password, moderatorPassword: m.secrets.moderatorPassword! } : {}),
  });
  m.secrets.createTime = created.createTime;
}

/** Stores the running meeting with its sealed secrets (inside the commit transaction). */
async function storeRunning(ctx: AppContext, trx: Kysely<DB>, room: RoomRow, m: FreshMeeting): Promise<void> {
  const now = ctx.clock.now();
  await trx
    .updateTable('rooms')
    .set({ state: 'running', meeting_id: m.meetingId, meeting_sealed: ctx.secrets.seal(JSON.stringify(m.secrets), meetingPlace(room, m.meetingId)), started_at: now, ended_at: null, updated_at: now })
    .where('id', '=', room.id)
    .execute();
}

/** Ends the meeting on the backend; `backend` is loaded before any transaction (PGlite: one connection). */
async function endOnBackend(backend: Backend, room: RoomRow): Promise<void> {
  if (!room.meeting_id) return;
  if (backend.kind === 'bbb') await bbbClient(backend).end(room.meeting_id);
  // Jitsi: the moderator's page ends the conference for everyone (endConference); the room name dies here.
}

/** A meeting we opened but could not record (our claim was lost): end it again, best effort. */
async function abandonMeeting(backend: Backend, meetingId: string): Promise<void> {
  if (backend.kind !== 'bbb') return;
  await bbbClient(backend)
    .end(meetingId)
    .catch(() => undefined); // BBB also expires a meeting nobody joined
}

export async function startRoom(ctx: AppContext, room: RoomRow, who: Acting): Promise<RoomRow> {
  const settings = await tenantSettings(ctx, room.tenant_id);
  const backend = await roomBackend(ctx, room);
  const o = enforce(ctx, room, who.userId, 'start', decide('start', actorOf(who), policyRoom(room, backend.kind), settings));
  if (!o.freshMeeting) return room; // already running
  const m = newMeeting(backend, o);
  const claim = await claimRoom(ctx, room, 'start', (locked) => locked.state !== 'running', () => m.meetingId);
  if (claim) {
    try {
      await createOnBackend(backend, claim.locked, m, o);
    } catch (error) {
      await releaseClaim(ctx, room, 'start', claim.token);
      throw error;
    }
    const stored = await ctx.db.transaction().execute(async (trx) => {
      if (!(await finishClaim(trx, room, 'start', claim.token))) return false;
      await storeRunning(ctx, trx, claim.locked, m);
      return true;
    });
    if (!stored) {
      await abandonMeeting(backend, m.meetingId);
      throw roomBusy();
    }
  }
  return (await reload(ctx, room))!;
}

export async function endRoom(ctx: AppContext, room: RoomRow, who: Acting): Promise<void> {
  const settings = await tenantSettings(ctx, room.tenant_id);
  const backend = await roomBackend(ctx, room);
  enforce(ctx, room, who.userId, 'end', decide('end', actorOf(who), policyRoom(room, backend.kind), settings));
  const claim = await claimRoom(ctx, room, 'end', (locked) => locked.state === 'running', (locked) => locked.meeting_id ?? randomUUID());
  if (!claim) return;
  try {
    await endOnBackend(backend, claim.locked);
  } catch (error) {
    await releaseClaim(ctx, room, 'end', claim.token);
    throw error;
  }
  await ctx.db.transaction().execute(async (trx) => {
    if (await finishClaim(trx, room, 'end', claim.token)) await destroyMeeting(trx, claim.locked, ctx.clock.now());
  });
}

/** VC-11: ends the sensitive meeting and opens a new one with a new id and password. */
export async function continueInFreshRoom(ctx: AppContext, room: RoomRow, who: Acting): Promise<RoomRow> {
  const settings = await tenantSettings(ctx, room.tenant_id);
  const backend = await roomBackend(ctx, room);
  const o = enforce(ctx, room, who.userId, 'continue-in-fresh-room', decide('continue-in-fresh-room', actorOf(who), policyRoom(room, backend.kind), settings));
  const m = newMeeting(backend, o);
  const claim = await claimRoom(ctx, room, 'fresh', (locked) => locked.state === 'running', () => m.meetingId);
  if (!claim) throw new ProblemError(409, 'conflict', 'Die Konferenz läuft nicht mehr (VC-11).', { ruleIds: ['VC-11'], extra: { reasonEn: 'The conference is no longer running (VC-11).' } });
  try {
    await endOnBackend(backend, claim.locked);
  } catch (error) {
    await releaseClaim(ctx, room, 'fresh', claim.token);
    throw error;
  }
  try {
    await createOnBackend(backend, claim.locked, m, o);
  } catch (error) {
    // The old meeting is already gone on the backend: its id, secrets and links go too
    // (VC-10, RET-04); the room is ended and can be started again.
    await ctx.db.transaction().execute(async (trx) => {
      if (await finishClaim(trx, room, 'fresh', claim.token)) await destroyMeeting(trx, claim.locked, ctx.clock.now());
    });
    throw error;
  }
  const stored = await ctx.db.transaction().execute(async (trx) => {
    if (!(await finishClaim(trx, room, 'fresh', claim.token))) return false;
    await destroyMeeting(trx, claim.locked, ctx.clock.now());
    await storeRunning(ctx, trx, claim.locked, m);
    return true;
  });
  if (!stored) {
    await abandonMeeting(backend, m.meetingId);
    throw roomBusy();
  }
  return (await reload(ctx, room))!;
}

export async function reload(ctx: AppContext, room: { id: string; tenant_id: string }): Promise<RoomRow | null> {
  return (await ctx.db.selectFrom('rooms').selectAll().where('id', '=', room.id).where('tenant_id', '=', room.tenant_id).where('deleted_at', 'is', null).executeTakeFirst()) ?? null;
}

export type JoinTarget =
  | { kind: 'bbb'; url: string }
  | {
      kind: 'jitsi';
      domain: string;
      room: string;
      jwt: string;
      moderator: boolean;
      lobby: boolean;
      password: string | null;
      cameraOff: boolean;
      privateChat: boolean;
    };

async function joinTarget(ctx: AppContext, room: RoomRow, backend: Backend, o: Obligations, person: { userId: string; displayName: string }, actorId: string | null): Promise<JoinTarget> {
  const secrets = openMeeting(ctx, room);
  if (backend.kind === 'bbb') {
    const client = bbbClient(backend);
    const info = await client.getMeetingInfo(room.meeting_id!);
    if (!info) {
      // The backend meeting vanished (ended on its own): the room is over (VC-10, RET-04).
      await ctx.db.transaction().execute(async (trx) => {
        const locked = await lockRoom(trx, room);
        if (locked.meeting_id === room.meeting_id) await destroyMeeting(trx, locked, ctx.clock.now());
      });
      ctx.audit.activity({ tenantId: room.tenant_id, actorId, contextId: room.context_id, action: 'room.vanished', objectType: 'room', objectId: room.id, outcome: 'ok', ruleIds: ['VC-10', 'RET-04'] });
      if (o.moderator) throw new ProblemError(409, 'conflict', 'Die Konferenz ist auf dem Konferenzsystem inzwischen beendet; bitte neu starten (VC-10).', { ruleIds: ['VC-10'], extra: { reasonEn: 'The conference has ended on the conference system; please start it again (VC-10).' } });
      throw new ProblemError(409, 'conflict', 'Die Konferenz ist inzwischen beendet. Warten auf die Lehrkraft (VC-03, VC-10).', { ruleIds: ['VC-03', 'VC-10'], extra: { waiting: true, reasonEn: 'The conference has ended. Waiting for the teacher (VC-03, VC-10).' } });
    }
    return { kind: 'bbb', url: client.joinUrl({ meetingId: room.meeting_id!, createTime: info.createTime, fullName: person.displayName, userId: person.userId, obligations: o }) };
  }
  const jwt = await jitsiToken(backend, { room: room.meeting_id!, userId: person.userId, displayName: person.displayName, obligations: o, now: ctx.clock.now() });
  return {
    kind: 'jitsi',
    domain: backend.domain,
    room: room.meeting_id!,
    jwt,
    moderator: o.moderator,
    lobby: o.lobby,
    password: o.password ? (secrets.password ?? null) : null,
    cameraOff: o.cameraOff,
    privateChat: o.privateChat,
  };
}

/** A roster member joins: one personal URL or token, at this moment (VC-02). */
export async function joinRoom(ctx: AppContext, room: RoomRow, who: Acting): Promise<JoinTarget> {
  const settings = await tenantSettings(ctx, room.tenant_id);
  const backend = await roomBackend(ctx, room);
  const facts = await joinFacts(ctx, room.tenant_id, who.userId);
  const links = await ctx.db.selectFrom('share_links').select('id').where('room_id', '=', room.id).where('expires_at', '>', ctx.clock.now()).executeTakeFirst();
  facts.shareLinksActive = Boolean(links);
  const o = enforce(ctx, room, who.userId, 'join', decide('join', actorOf(who), policyRoom(room, backend.kind), settings, facts));
  const user = await ctx.db.selectFrom('users').select('display_name').where('id', '=', who.userId).executeTakeFirstOrThrow();
  return joinTarget(ctx, room, backend, o, { userId: who.userId, displayName: user.display_name }, who.userId);
}

/** VC-15: a time-limited, password-protected link; the password is shown once and stored hashed. */
export async function createShareLink(ctx: AppContext, room: RoomRow, who: Acting, hours?: number): Promise<{ token: string; password: string; expiresAt: Date }> {
  const settings = await tenantSettings(ctx, room.tenant_id);
  const backend = await roomBackend(ctx, room);
  const o = enforce(ctx, room, who.userId, 'create-share-link', decide('create-share-link', actorOf(who), policyRoom(room, backend.kind), settings, hours === undefined ? {} : { shareLinkHours: hours }));
  const token = randomBytes(32).toString('base64url');
  const password = newPassword();
  const expiresAt = new Date(ctx.clock.now().getTime() + o.shareLinkHours! * HOUR);
  await ctx.db
    .insertInto('share_links')
    .values({ tenant_id: room.tenant_id, room_id: room.id, token_hash: hashToken(token), password_hash: await hashPassword(password), expires_at: expiresAt, created_by: who.userId })
    .execute();
  return { token, password, expiresAt };
}

export async function findShareLink(ctx: AppContext, token: string) {
  const link = await ctx.db.selectFrom('share_links').selectAll().where('token_hash', '=', hashToken(token)).executeTakeFirst();
  if (!link) return null;
  const room = await ctx.db.selectFrom('rooms').selectAll().where('id', '=', link.room_id).where('deleted_at', 'is', null).executeTakeFirst();
  return room ? { link, room } : null;
}

/** VC-15: a guest with name and password joins through the lobby as guest=true. */
export async function joinByShareLink(ctx: AppContext, token: string, guestName: string, password: string): Promise<JoinTarget> {
  const found = await findShareLink(ctx, token);
  const now = ctx.clock.now();
  const facts: PolicyFacts = {
    shareLink: found ? { found: true, expired: found.link.expires_at <= now, passwordOk: await verifyPassword(password, found.link.password_hash) } : { found: false, expired: false, passwordOk: false },
  };
  if (!found) {
    // Nothing to log against: no room is known for an unknown token.
    const d = decide('join-by-share-link', { kind: 'guest', roles: [] }, { category: 'lesson', state: 'ended', settings: {}, backendKind: 'bbb' }, { consentRequired: true, conference: { lessonLobby: true, recordingAllowed: false, shareLinkMaxHours: 24, lessonPrivateChat: false } }, facts);
    throw new ProblemError(404, 'not-found', d.reason.de, { ruleIds: d.rules });
  }
  const settings = await tenantSettings(ctx, found.room.tenant_id);
  const backend = await roomBackend(ctx, found.room);
  const o = enforce(ctx, found.room, null, 'join-by-share-link', decide('join-by-share-link', { kind: 'guest', roles: [] }, policyRoom(found.room, backend.kind), settings, facts));
  const guestId = `guest-${randomUUID()}`; // VC-12: pseudonymous, not linkable
  return joinTarget(ctx, found.room, backend, o, { userId: guestId, displayName: guestName }, null);
}

/** VC-05: the teacher switches recording for the room (only where the tenant permits). */
export async function setRecording(ctx: AppContext, room: RoomRow, who: Acting, enabled: boolean): Promise<void> {
  const settings = await tenantSettings(ctx, room.tenant_id);
  const action = enabled ? 'enable-recording' : 'disable-recording';
  enforce(ctx, room, who.userId, action, decide(action, actorOf(who), policyRoom(room, 'bbb'), settings));
  const current = (room.settings ?? {}) as RoomSettings;
  await ctx.db.updateTable('rooms').set({ settings: JSON.stringify({ ...current, recording: enabled }), updated_at: ctx.clock.now() }).where('id', '=', room.id).execute();
}

export interface RoomInput {
  tenantId: string;
  contextId: string;
  title: string;
  category: RequestedCategory;
  backend: string;
  purpose?: string | null;
  settings?: RoomSettings;
}

/** VC-03, VC-08, VC-09: creates a room in a context after the policy permitted it. */
export async function createRoom(ctx: AppContext, input: RoomInput, who: Acting): Promise<RoomRow> {
  const settings = await tenantSettings(ctx, input.tenantId);
  const backend = await loadBackend(ctx.db, ctx.secrets, input.tenantId, input.backend);
  const d = decide('create', actorOf(who), { category: input.category, state: 'idle', purpose: input.purpose ?? null, settings: input.settings ?? {}, backendKind: backend?.kind ?? 'bbb' }, settings);
  // A refusal is logged without an object; a permit once the room exists (with its id).
  if (d.effect === 'deny') enforce(ctx, { id: null, tenant_id: input.tenantId, context_id: input.contextId }, who.userId, 'create', d);
  if (!backend) throw new ProblemError(422, 'validation-failed', `Das Konferenzsystem „${input.backend}“ ist für diese Schule nicht eingerichtet.`, { extra: { errors: [{ in: 'body', field: 'backend', message: 'unbekannt', code: 'custom' }] } });
  const room = await insertRoom(ctx.db, ctx.clock, { tenantId: input.tenantId, contextId: input.contextId, title: input.title, category: input.category as Exclude<RequestedCategory, 'art9'>, backend: input.backend, purpose: input.purpose ?? null, settings: { ...(input.settings ?? {}) }, createdBy: who.userId });
  enforce(ctx, room, who.userId, 'create', d);
  return room;
}
