import type { ColumnType, Generated } from 'kysely';

/** A timestamptz column: written as Date or ISO string, read as Date. */
export type Timestamp = ColumnType<Date, Date | string, Date | string>;
/** A timestamptz column with a database default. */
export type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
/** A jsonb column: written as JSON text or object, read as parsed JSON. */
export type Json<T> = ColumnType<T, T | string, T | string>;
export type { Generated };
