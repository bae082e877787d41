import type { Kysely, Selectable } from 'kysely';
import type { DB } from '../db/schema.js';
import type { Clock } from '../shared/clock.js';
import type { ConferenceTables, RoomCategory } from './tables.js';

export type RoomRow = Selectable<ConferenceTables['rooms']>;

export interface NewRoom {
  tenantId: string;
  contextId: string;
  title: string;
  category: RoomCategory;
  backend: string;
  purpose?: string | null;
  settings?: Record<string, unknown>;
  createdBy: string;
}

export async function insertRoom(db: Kysely<DB>, clock: Clock, room: NewRoom): Promise<RoomRow> {
  const now = clock.now();
  return db
    .insertInto('rooms')
    .values({
      tenant_id: room.tenantId,
      context_id: room.contextId,
      title: room.title,
      category: room.category,
      backend: room.backend,
      purpose: room.purpose ?? null,
      settings: JSON.stringify(room.settings ?? {}),
      state: 'idle',
      created_by: room.createdBy,
      created_at: now,
      updated_at: now,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function findRoom(db: Kysely<DB>, tenantId: string, roomId: string): Promise<RoomRow | null> {
  const row = await db.selectFrom('rooms').selectAll().where('tenant_id', '=', tenantId).where('id', '=', roomId).where('deleted_at', 'is', null).executeTakeFirst();
  return row ?? null;
}

export async function roomsOfContext(db: Kysely<DB>, tenantId: string, contextId: string): Promise<RoomRow[]> {
  return db.selectFrom('rooms').selectAll().where('tenant_id', '=', tenantId).where('context_id', '=', contextId).where('deleted_at', 'is', null).orderBy('created_at').execute();
}
