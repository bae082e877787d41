import type { CreatedAt, Generated, Json, Timestamp } from '../db/types.js';

export const ROOM_CATEGORIES = ['lesson', 'staff', 'sensitive', 'peer'] as const;
export type RoomCategory = (typeof ROOM_CATEGORIES)[number];

export interface ConferenceTables {
  /** A conference room bound to a context (LTI course or IServ group). `meeting` is its session on the backend. */
  rooms: {
    id: Generated<string>;
    tenant_id: string;
    context_id: string;
    title: string;
    category: RoomCategory;
    /** Name of the tenant's backend (backends.name). */
    backend: string;
    /** VC-09: staff and sensitive rooms state a short purpose. */
    purpose: string | null;
    settings: Json<Record<string, unknown>>;
    /** idle → running → ended */
    state: string;
    created_by: string;
    created_at: CreatedAt;
    updated_at: Timestamp;
    deleted_at: Timestamp | null;
  };
}
