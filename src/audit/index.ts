import type { Insertable, Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { DB } from '../db/schema.js';
import type { Clock } from '../shared/clock.js';
import { ensurePartitions, partitionName } from './partitions.js';
import type { AuditTables, LogTable } from './tables.js';

export { ensureLogPartitions, ensurePartitions, partitionName, startOfUtcDay } from './partitions.js';
export { LOG_TABLES, type LogTable } from './tables.js';

export interface ActivityEvent {
  tenantId: string;
  /** Pseudonymous user id (users.id), never a name. */
  actorId?: string | null;
  contextId?: string | null;
  action: string;
  objectType?: string;
  objectId?: string;
  outcome: 'permit' | 'deny' | 'ok' | 'error';
  ruleIds?: string[];
  /** Only ids, counts and codes. */
  details?: Record<string, unknown>;
}

export interface AdminEvent {
  tenantId?: string | null;
  /** 'operator' or `token:<id>` or `user:<id>`. */
  actor: string;
  action: string;
  objectType: string;
  objectId?: string | null;
  ruleIds?: string[];
  details?: Record<string, unknown>;
}

export interface AccessEvent {
  requestId: string;
  method: string;
  route: string;
  status: number;
  durationMs: number;
  /** Already anonymised (RET-02). */
  ipAnon: string | null;
  tenantId?: string | null;
}

type Row<T extends LogTable> = Insertable<AuditTables[T]>;

export interface AuditOptions {
  flushIntervalMs?: number;
  maxBatch?: number;
  /** Rows kept while the database is unreachable; beyond it the oldest are dropped (and counted). */
  maxBuffered?: number;
}

/**
 * The three logs. Activity and access entries are buffered and written in
 * batches so logging never slows a request: a crash loses at most one flush
 * interval (1 s by default). Admin actions are written inside the caller's
 * transaction: an admin action and its log entry exist together or not at all.
 */
export class AuditLog {
  private readonly buffers: { activity_log: Row<'activity_log'>[]; access_log: Row<'access_log'>[] } = {
    activity_log: [],
    access_log: [],
  };
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> | null = null;
  /** admin_log partitions known to exist (days are never dropped while current). */
  private readonly adminDays = new Set<string>();
  private readonly maxBatch: number;
  private readonly maxBuffered: number;
  dropped = 0;

  constructor(
    private readonly db: Kysely<DB>,
    private readonly clock: Clock,
    private readonly logger: Logger,
    options: AuditOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 500;
    this.maxBuffered = options.maxBuffered ?? 50_000;
    this.timer = setInterval(() => void this.flush(), options.flushIntervalMs ?? 1000);
    this.timer.unref();
  }

  activity(event: ActivityEvent): void {
    this.push('activity_log', {
      at: this.clock.now(),
      tenant_id: event.tenantId,
      actor_id: event.actorId ?? null,
      context_id: event.contextId ?? null,
      action: event.action,
      object_type: event.objectType ?? null,
      object_id: event.objectId ?? null,
      outcome: event.outcome,
      rule_ids: event.ruleIds ?? [],
      details: JSON.stringify(event.details ?? {}),
    });
  }

  access(event: AccessEvent): void {
    this.push('access_log', {
      at: this.clock.now(),
      request_id: event.requestId,
      method: event.method,
      route: event.route,
      status: event.status,
      duration_ms: event.durationMs,
      ip_anon: event.ipAnon,
      tenant_id: event.tenantId ?? null,
    });
  }

  /** RET-03. Pass the transaction that performs the action. */
  async admin(trx: Kysely<DB>, event: AdminEvent): Promise<void> {
    const row: Row<'admin_log'> = {
      at: this.clock.now(),
      tenant_id: event.tenantId ?? null,
      actor: event.actor,
      action: event.action,
      object_type: event.objectType,
      object_id: event.objectId ?? null,
      rule_ids: event.ruleIds ?? [],
      details: JSON.stringify(event.details ?? {}),
    };
    // Inside the caller's transaction: make sure the day's partition exists first
    // (a failed insert would abort the whole transaction). A day seen to exist is not
    // checked again; one created here is not remembered, since the transaction may roll back.
    const day = partitionName('admin_log', row.at as Date);
    if (!this.adminDays.has(day)) {
      const created = await ensurePartitions(trx, 'admin_log', row.at as Date, row.at as Date);
      if (created.length === 0) this.adminDays.add(day);
    }
    await trx.insertInto('admin_log').values(row).execute();
  }

  /** Writes everything buffered so far. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (!this.buffers.activity_log.length && !this.buffers.access_log.length) return;
    this.flushing = this.flushAll().finally(() => (this.flushing = null));
    await this.flushing;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  private push<T extends 'activity_log' | 'access_log'>(table: T, row: Row<T>): void {
    const buffer = this.buffers[table] as Row<T>[];
    buffer.push(row);
    if (buffer.length > this.maxBuffered) {
      buffer.splice(0, buffer.length - this.maxBuffered);
      this.dropped++;
    }
    if (buffer.length >= this.maxBatch) void this.flush();
  }

  private async flushAll(): Promise<void> {
    for (const table of ['activity_log', 'access_log'] as const) {
      const buffer = this.buffers[table];
      while (buffer.length) {
        const batch = buffer.slice(0, this.maxBatch);
        try {
          await this.insert(this.db, table, batch as Row<typeof table>[]);
          buffer.splice(0, batch.length);
        } catch (error) {
          this.logger.error({ err: errorCode(error), table, rows: batch.length }, 'audit flush failed; will retry');
          return;
        }
      }
    }
  }

  private async insert<T extends LogTable>(db: Kysely<DB>, table: T, rows: Row<T>[]): Promise<void> {
    // One code path for three tables; the row types are checked where rows are built.
    try {
      await db.insertInto(table).values(rows as never).execute();
    } catch (error) {
      // No partition for a day (e.g. after a long maintenance gap): create it, retry once.
      if ((error as { code?: string }).code !== '23514') throw error;
      const days = rows.map((r) => new Date((r as unknown as { at: Date | string }).at).getTime());
      await ensurePartitions(db, table, new Date(Math.min(...days)), new Date(Math.max(...days)));
      await db.insertInto(table).values(rows as never).execute();
    }
  }
}

function errorCode(error: unknown): string {
  const e = error as { code?: string; message?: string };
  return e.code ?? e.message?.slice(0, 120) ?? 'unknown';
}
