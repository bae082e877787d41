import type { Express } from 'express';
import { z } from 'zod';
import type { Mount } from '../app.js';
import type { AppContext } from '../context.js';
import type { Api, TenantRef } from '../http/api.js';
import { ProblemError } from '../shared/errors.js';
import { registerConferencePages } from './pages.js';
import { actingIn, continueInFreshRoom, createRoom, createShareLink, endRoom, joinRoom, setRecording, startRoom } from './service.js';
import { findRoom, roomsOfContext, type RoomRow } from './store.js';

const uuid = z.uuid();
const roomSettings = z
  .object({
    lobby: z.boolean().optional(),
    privateChat: z.boolean().optional(),
    recording: z.boolean().optional(),
    webcamsOnlyForModerator: z.boolean().optional(),
    disableCam: z.boolean().optional(),
  })
  .strict();

export const roomOut = z.object({
  id: z.string(),
  contextId: z.string(),
  title: z.string(),
  category: z.string(),
  backend: z.string(),
  purpose: z.string().nullable(),
  settings: z.record(z.string(), z.unknown()),
  state: z.enum(['idle', 'running', 'ended']),
  startedAt: z.string().nullable(),
  endedAt: z.string().nullable(),
  createdAt: z.string(),
});

/** Never the meeting id, password or URLs (VC-02, RET-04). */
export function roomView(r: RoomRow) {
  return {
    id: r.id,
    contextId: r.context_id,
    title: r.title,
    category: r.category,
    backend: r.backend,
    purpose: r.purpose,
    settings: r.settings as Record<string, unknown>,
    state: r.state as 'idle' | 'running' | 'ended',
    startedAt: r.started_at?.toISOString() ?? null,
    endedAt: r.ended_at?.toISOString() ?? null,
    createdAt: r.created_at.toISOString(),
  };
}

async function contextOf(ctx: AppContext, tenant: TenantRef, contextId: string): Promise<void> {
  const row = await ctx.db.selectFrom('contexts').select('id').where('tenant_id', '=', tenant.id).where('id', '=', contextId).where('deleted_at', 'is', null).executeTakeFirst();
  if (!row) throw new ProblemError(404, 'not-found', 'Kurs bzw. Gruppe nicht gefunden.', { ruleIds: ['ACC-04'] });
}

async function roomOf(ctx: AppContext, tenant: TenantRef, roomId: string): Promise<RoomRow> {
  const room = await findRoom(ctx.db, tenant.id, roomId);
  if (!room) throw new ProblemError(404, 'not-found', 'Raum nicht gefunden.', { ruleIds: ['ACC-04'] });
  return room;
}

/** The user the LMS acts for must be a user of this tenant. */
async function userOf(ctx: AppContext, tenant: TenantRef, userId: string): Promise<void> {
  const row = await ctx.db.selectFrom('users').select('id').where('tenant_id', '=', tenant.id).where('id', '=', userId).where('deleted_at', 'is', null).executeTakeFirst();
  if (!row) throw new ProblemError(404, 'not-found', 'Person nicht gefunden.', { ruleIds: ['ACC-04'] });
}

/** The room and the person the LMS acts for, with that person's verified roles in the room's context. */
async function roomAndActor(ctx: AppContext, tenant: TenantRef, roomId: string, userId: string) {
  const room = await roomOf(ctx, tenant, roomId);
  await userOf(ctx, tenant, userId);
  return { room, actor: await actingIn(ctx, tenant.id, userId, room.context_id) };
}

const access = { scopes: ['admin', 'lms'] as const };
const roomParams = z.object({ slug: z.string(), roomId: uuid });
const actorBody = z.object({ userId: uuid.describe('The pseudonymous user (users.id) the LMS acts for; roles come from verified memberships') }).strict();

export function registerRoomRoutes(api: Api, ctx: AppContext): void {
  api.route({
    method: 'post',
    path: '/tenants/{slug}/contexts/{contextId}/rooms',
    summary: 'Create a room in a context for a teacher (VC-03, VC-08, VC-09)',
    tag: 'rooms',
    access,
    status: 201,
    params: z.object({ slug: z.string(), contextId: uuid }),
    body: z
      .object({
        userId: uuid,
        title: z.string().trim().min(1).max(200),
        category: z.enum(['lesson', 'staff', 'sensitive', 'peer', 'art9']).describe('`art9` is always refused (VC-08)'),
        backend: z.string().min(1).max(63),
        purpose: z.string().trim().max(300).nullish(),
        settings: roomSettings.optional(),
      })
      .strict(),
    response: roomOut,
    async handler({ tenant, params, body }) {
      await contextOf(ctx, tenant, params.contextId);
      await userOf(ctx, tenant, body.userId);
      const who = await actingIn(ctx, tenant.id, body.userId, params.contextId);
      const room = await createRoom(ctx, { tenantId: tenant.id, contextId: params.contextId, title: body.title, category: body.category, backend: body.backend, purpose: body.purpose ?? null, settings: body.settings ?? {} }, who);
      return roomView(room);
    },
  });

  api.route({
    method: 'get',
    path: '/tenants/{slug}/contexts/{contextId}/rooms',
    summary: 'List the rooms of a context',
    tag: 'rooms',
    access,
    params: z.object({ slug: z.string(), contextId: uuid }),
    response: z.object({ items: z.array(roomOut) }),
    async handler({ tenant, params }) {
      await contextOf(ctx, tenant, params.contextId);
      return { items: (await roomsOfContext(ctx.db, tenant.id, params.contextId)).map(roomView) };
    },
  });

  api.route({
    method: 'get',
    path: '/tenants/{slug}/rooms/{roomId}',
    summary: 'Read a room (never its meeting id, password or URLs)',
    tag: 'rooms',
    access,
    params: roomParams,
    response: roomOut,
    async handler({ tenant, params }) {
      return roomView(await roomOf(ctx, tenant, params.roomId));
    },
  });

  api.route({
    method: 'post',
    path: '/tenants/{slug}/rooms/{roomId}/start',
    summary: 'Start the room for a teacher: a new random meeting id (VC-03, VC-10)',
    tag: 'rooms',
    access,
    params: roomParams,
    body: actorBody,
    response: roomOut,
    async handler({ tenant, params, body }) {
      const { room, actor } = await roomAndActor(ctx, tenant, params.roomId, body.userId);
      return roomView(await startRoom(ctx, room, actor));
    },
  });

  api.route({
    method: 'post',
    path: '/tenants/{slug}/rooms/{roomId}/join',
    summary: 'A personal join URL (BBB) or token (Jitsi) for one person, valid for minutes (VC-01, VC-02)',
    tag: 'rooms',
    access,
    params: roomParams,
    body: actorBody,
    response: z.object({ kind: z.enum(['bbb', 'jitsi']) }).catchall(z.unknown()),
    async handler({ tenant, params, body, res }) {
      const { room, actor } = await roomAndActor(ctx, tenant, params.roomId, body.userId);
      res.setHeader('Cache-Control', 'no-store');
      return joinRoom(ctx, room, actor);
    },
  });

  api.route({
    method: 'post',
    path: '/tenants/{slug}/rooms/{roomId}/end',
    summary: 'End for everyone; meeting id, password and share links are destroyed (VC-10, RET-04)',
    tag: 'rooms',
    access,
    status: 204,
    params: roomParams,
    body: actorBody,
    async handler({ tenant, params, body }) {
      const { room, actor } = await roomAndActor(ctx, tenant, params.roomId, body.userId);
      await endRoom(ctx, room, actor);
    },
  });

  api.route({
    method: 'post',
    path: '/tenants/{slug}/rooms/{roomId}/fresh',
    summary: 'Continue a sensitive meeting in a fresh room with new id and password (VC-11)',
    tag: 'rooms',
    access,
    params: roomParams,
    body: actorBody,
    response: roomOut,
    async handler({ tenant, params, body }) {
      const { room, actor } = await roomAndActor(ctx, tenant, params.roomId, body.userId);
      return roomView(await continueInFreshRoom(ctx, room, actor));
    },
  });

  api.route({
    method: 'post',
    path: '/tenants/{slug}/rooms/{roomId}/share-links',
    summary: 'Create a time-limited, password-protected guest link (VC-15); the password is shown only here',
    tag: 'rooms',
    access,
    status: 201,
    params: roomParams,
    body: z.object({ userId: uuid, hours: z.number().int().min(1).max(24).optional() }).strict(),
    response: z.object({ url: z.string(), password: z.string(), expiresAt: z.string() }),
    async handler({ tenant, params, body, res }) {
      const { room, actor } = await roomAndActor(ctx, tenant, params.roomId, body.userId);
      const link = await createShareLink(ctx, room, actor, body.hours);
      res.setHeader('Cache-Control', 'no-store');
      return { url: `${ctx.config.publicUrl.replace(/\/+$/, '')}/share/${link.token}`, password: link.password, expiresAt: link.expiresAt.toISOString() };
    },
  });

  api.route({
    method: 'put',
    path: '/tenants/{slug}/rooms/{roomId}/recording',
    summary: 'Switch recording for the room (only where the tenant permits it, VC-05); applies from the next start',
    tag: 'rooms',
    access,
    params: roomParams,
    body: z.object({ userId: uuid, enabled: z.boolean() }).strict(),
    response: roomOut,
    async handler({ tenant, params, body }) {
      const { room, actor } = await roomAndActor(ctx, tenant, params.roomId, body.userId);
      await setRecording(ctx, room, actor, body.enabled);
      return roomView(await roomOf(ctx, tenant, params.roomId));
    },
  });
}

/** REST for rooms plus the pages /home, /contexts/{id}, /rooms/{id}, /share/{token}. */
export const conferenceMount: Mount = (app: Express, api: Api, ctx: AppContext) => {
  registerRoomRoutes(api, ctx);
  registerConferencePages(app, ctx);
};
