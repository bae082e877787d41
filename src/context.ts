import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { AuditLog } from './audit/index.js';
import type { Config } from './config.js';
import type { SecretBox } from './crypto/secrets.js';
import type { Database } from './db/index.js';
import type { DB } from './db/schema.js';
import type { Metrics } from './ops/metrics.js';
import type { PrivacyRegistry } from './privacy/registry.js';
import type { RetentionRegistry } from './retention/registry.js';
import type { Clock } from './shared/clock.js';

/** What the running service hands to routes and jobs; built once in `main.ts` (or a test). */
export interface AppContext {
  config: Config;
  database: Database;
  db: Kysely<DB>;
  clock: Clock;
  logger: Logger;
  secrets: SecretBox;
  audit: AuditLog;
  metrics: Metrics;
  privacy: PrivacyRegistry;
  retention: RetentionRegistry;
  /** SHA-256 of the operator credential (the token itself is never kept in memory longer than start-up). */
  operatorTokenHash: string;
}
