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
    created_by: string | null;
    created_at: CreatedAt;
    updated_at: Timestamp;
    deleted_at: Timestamp | null;
    /** The running meeting's random id (BBB meetingID / Jitsi room name); null when not running (VC-10). */
    meeting_id: string | null;
    /** Sealed JSON {createTime, password} of the running meeting (ctx.secrets; RET-04). */
    meeting_sealed: string | null;
    started_at: Timestamp | null;
    ended_at: Timestamp | null;
    /** The start/end/fresh operation in flight while the backend is called (no transaction open); null when none. */
    op: 'start' | 'end' | 'fresh' | null;
    /** The claim's token: the meeting id being created (start, fresh) or ended (end). */
    op_meeting_id: string | null;
    /** Lease of the claim (ctx.clock); after it a crashed operation's claim may be taken over. */
    op_until: Timestamp | null;
  };
  /** VC-15: time-limited, password-protected guest links; deleted when the room's meeting ends. */
  share_links: {
    id: Generated<string>;
    tenant_id: string;
    room_id: string;
    token_hash: string;
    password_hash: string;
    expires_at: Timestamp;
    created_by: string | null;
    created_at: CreatedAt;
  };
  /** RET-05: deleted recordings (ids and times only). */
  recording_deletions: {
    id: Generated<string>;
    tenant_id: string;
    room_id: string;
    backend: string;
    record_id: string;
    recorded_at: Timestamp | null;
    deleted_at: Timestamp;
  };
}
